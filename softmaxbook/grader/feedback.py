"""Feedback worth sending (graded exercises, all chapters): what each learner gets back.

For every entry the batch grader writes, in ``grades_feedback/`` (:class:`.gradebook.Outputs`),
the same feedback twice: a Markdown file (:func:`feedback_text`) and a self-contained HTML page
(:func:`feedback_html`: inline style, no script, no external resource, readable on a phone).
Both are named with the learner id when it is known (``1004_ex4``) and with the entry's name
and a short hash otherwise (:func:`feedback_stem`). They say in plain words what the status
means (:data:`STATUS_SAYS`), the problem found (the exception's type, message and cell, a
cell past its time limit, ...), a late penalty, a teaching assistant's overrides and the
previous result when the row carries them, then per exercise the task, the verdict and its
points. Every text a learner controls (file names, exception messages, what an answer was) is
made printable before it reaches a row (:func:`.result.printable`) and escaped here for HTML
and Markdown, so it can neither run nor fake a line of feedback.

For the instructor: an index page with a table of every entry (:func:`index_html`), and with
``--feedback-archive`` one zip per gradebook (:func:`archive`): the pages for any upload
(``files``), or laid out for Moodle's "Upload multiple feedback files in a zip" (``moodle``).
"""

from __future__ import annotations

import hashlib
import html
import io
import os
import re
import zipfile
from pathlib import Path

from . import registry
from .assignments import assignments
from .gradebook import Outputs, gradebooks, total
from .learner import atomic_write
from .submissions import SUFFIXES, display

#: What each status means, said to the learner (the row's reason then says what was found where).
STATUS_SAYS = {
    "graded": "Your notebook ran and your answers were graded: the feedback on each exercise is below.",
    "unanswered": "None of your answers was filled in: the notebook came back as it was handed out. Replace each "
                  "placeholder (...) with your answer, run the notebook from the top, save it and resubmit.",
    "timed out": "Your notebook took too long: a cell ran past the time limit and was stopped (the cell is named "
                 "below). Answers checked before it count. Look for a loop that never ends or a computation far "
                 "larger than the exercise needs.",
    "crashed": "Your notebook stopped: the Python kernel running it died in the cell named below (code that ends "
               "Python, such as os._exit, or that uses too much memory). Answers checked before it count.",
    "malformed": "Your file could not be read as a notebook.",
    "answers removed": "Some answer cells (the cells that call check(...)) are missing from your notebook or name "
                       "exercises that do not exist, so those exercises could not be graded. Start again from a "
                       "fresh copy of the notebook, keep its answer cells, and resubmit.",
    "skipped": "Your submission was not run (why is said below). Please resubmit it as a notebook file "
               "(.ipynb, or the course's .md file).",
    "error": "The grader could not grade this submission because of a problem on the grader's side, not in your "
             "work. Your instructor will look at it.",
}
ARCHIVES = ("files", "moodle")
# A Moodle "Download all submissions" name: full name, participant id, plugin type and name, rest
# (mod/assign/feedback/file/importziplib.php splits each path part so, at most five parts).
MOODLE_PART = re.compile(r"(?P<name>[^_/]*)_(?P<id>[0-9]{1,18})_assignsubmission_[a-z]+(?:_.*)?", re.S)
_MD_SPECIAL = set("`*[]<>|")
_PUNCT = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


# --------------------------------------------------------------------------- names

def _slug(text: str, limit: int = 60) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in text)[:limit].lstrip(".")


def _short_hash(text: str) -> str:
    return hashlib.sha256(os.fsencode(text)).hexdigest()[:8]


def feedback_stem(name: str, learner: str | None = None, assignment: str | None = None) -> str:
    """The file name (without ``.md``/``.html``) of an entry's feedback: the learner id and the
    assignment (``1004_ex4``) when the learner is known, a hash added when the id is not a
    plain name; otherwise a readable slug of the entry's name and a short hash of the exact
    name (so ``alice/`` and ``alice.md``, ``a lice.md`` and ``a_lice.md`` get different files)."""
    if learner:
        slug = _slug(learner, 40)
        head = slug if slug == learner and slug else f"{slug}-{_short_hash(learner)}"
        return head + (f"_{assignment}" if assignment else "")
    stem = name[: -len(Path(name).suffix)] if Path(name).suffix in SUFFIXES else name
    return f"{_slug(stem) or 'submission'}-{_short_hash(name)}"


def feedback_name(name: str) -> str:
    """The Markdown file of an entry whose learner is not known."""
    return feedback_stem(name) + ".md"


def stem_of(name: str, row: dict) -> str:
    """The feedback stem of an entry's row (:func:`feedback_stem` with its learner and assignment)."""
    return feedback_stem(name, row.get("learner"), row.get("assignment"))


# --------------------------------------------------------------------------- what is said

def md(text) -> str:
    """Learner-controlled text (already printable) for Markdown: ``` ` * [ ] < > | ``` escaped,
    and a backslash before punctuation, so it can make no link, image, HTML, code or emphasis."""
    text = str(text)
    out = []
    for k, ch in enumerate(text):
        if ch in _MD_SPECIAL or (ch == "\\" and text[k + 1: k + 2] in _PUNCT):
            out.append("\\")
        out.append(ch)
    return "".join(out)


def _title(row: dict) -> str:
    return assignments()[row["assignment"]].title if row.get("assignment") else "no assignment recognised"


def _score(row: dict) -> str:
    points, top = total(row, list(row["scores"]))
    return f"{points:.2f} / {top:g}" + (f" ({100 * points / top:.0f} %)" if top else "")


def _late(row: dict) -> str:
    """The late penalty in one sentence: its reason (:func:`.late.lateness`) says hours and points."""
    late = row["late"]
    reason = late.get("reason", "")
    return reason[:1].upper() + reason[1:] if reason else (
        f"Submitted {late['hours']:.1f} hours after the due date (extensions counted): "
        f"{late['penalty']:.0%} of the points taken off")


def _because(text: str, why) -> str:
    return f"{text}: {why}" if why else text


def _previous(row: dict) -> str:
    prev = row["previous"]
    return _because(f"{prev['total']:g} points ({prev['at']})", prev.get("why"))


def _override(ov: dict) -> str:
    return _because(f"Changed by your instructor from {ov['graded']:.0%} to {ov['score']:.0%}", ov.get("reason"))


LABELLED = (("late", "Late", _late), ("previous", "Previous result", _previous))   # optional fields, as shown


def _exercises(row: dict):
    """Per exercise of the row: ``(id, heading, task, headline, details, override)``; the score
    shown is the row's (after an override)."""
    for ex_id, score in row["scores"].items():
        ex, fb = registry.EXERCISES.get(ex_id), row["feedback"].get(ex_id)
        task = ex.task if ex else ""
        ov = (row.get("overrides") or {}).get(ex_id)
        if fb is None:
            yield ex_id, f"{ex_id} — not graded, {score:.0%}", task, "", [], ov
            continue
        # A row written before 26 has the whole text in "message" (headline and the points joined):
        # then the points are not listed again.
        headline, details = (fb["headline"], fb["details"]) if "headline" in fb else (fb["message"], [])
        said = f"{score:.0%}, set by your instructor (graded: {fb['status']})" if ov else f"{fb['status']}, {score:.0%}"
        yield ex_id, f"{ex_id} — {said}", task, headline, details, ov


def feedback_text(name: str, row: dict) -> str:
    """The feedback of one entry in Markdown: who, assignment, score, what the status means, the
    problem, late penalty, previous result and notes, then per exercise task and feedback."""
    lines = [f"# Feedback for {md(display(name))}", ""]
    if row.get("learner"):
        lines += [f"Learner: {md(display(row['learner']))}", ""]
    lines += [f"Assignment: {md(_title(row))}", "", f"Score: {_score(row)}", "",
              f"Status: {row['status']}. {STATUS_SAYS.get(row['status'], '')}".rstrip(), ""]
    if row["reason"]:
        lines += [f"**What the grader found:** {md(row['reason'])}", ""]
    for key, label, say in LABELLED:
        if row.get(key):
            lines += [f"**{label}:** {md(say(row))}", ""]
    lines += [f"- note: {md(n)}" for n in row["notes"]] + ([""] if row["notes"] else [])
    for _, heading, task, headline, details, ov in _exercises(row):
        lines += [f"## {heading}", ""] + ([task, ""] if task else [])
        lines += ([md(headline)] if headline else []) + [f"- {md(d)}" for d in details]
        lines += [f"- {md(_override(ov))}"] if ov else []
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- the page

STYLE = ("body{font:16px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;max-width:46rem;margin:0 auto;"
         "padding:1rem;color:#1a1a1a;background:#fff;overflow-wrap:anywhere}"
         "h1{font-size:1.5rem;line-height:1.25}h2{font-size:1.1rem;margin:0 0 .25rem}"
         ".box{border-left:6px solid #6b6b6b;background:#f5f5f5;padding:.5rem .75rem;margin:1rem 0}"
         ".correct{border-color:#2e7d32}.partly{border-color:#ef6c00}.wrong,.problem{border-color:#c62828}"
         ".muted{color:#4a4a4a}ul{padding-left:1.25rem;margin:.25rem 0}p{margin:.4rem 0}"
         "table{border-collapse:collapse;width:100%}th,td{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;"
         "vertical-align:top}thead th{background:#eef2f7}.wide{overflow-x:auto}")
_HEAD = ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
         "<meta name='viewport' content='width=device-width, initial-scale=1'>"
         "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
         "<title>{title}</title><style>" + STYLE + "</style></head><body><main>")
_KIND = {"correct": "correct", "partly right": "partly", "not right yet": "wrong"}


def _page(title: str, body: list[str]) -> str:
    return _HEAD.replace("{title}", html.escape(title)) + "".join(body) + "</main></body></html>\n"


def feedback_html(name: str, row: dict) -> str:
    """The feedback of one entry as a self-contained page (what :func:`feedback_text` says)."""
    e = html.escape
    who = e(display(row["learner"])) + " · " if row.get("learner") else ""
    body = [f"<h1>Feedback: {e(_title(row))}</h1>", f"<p class='muted'>{who}{e(display(name))}</p>",
            f"<p><strong>Score: {e(_score(row))}</strong></p>",
            f"<div class='box{' problem' if row['status'] != 'graded' or row['reason'] else ''}'>"
            f"<p><strong>Status: {e(row['status'])}.</strong> {e(STATUS_SAYS.get(row['status'], ''))}</p>"]
    if row["reason"]:
        body.append(f"<p><strong>What the grader found:</strong> {e(row['reason'])}</p>")
    body.append("</div>")
    for key, label, say in LABELLED:
        if row.get(key):
            body.append(f"<p><strong>{label}:</strong> {e(say(row))}</p>")
    if row["notes"]:
        body.append("<ul>" + "".join(f"<li>note: {e(n)}</li>" for n in row["notes"]) + "</ul>")
    for ex_id, heading, task, headline, details, ov in _exercises(row):
        status = (row["feedback"].get(ex_id) or {}).get("status", "")
        body.append(f"<section class='box {_KIND.get(status, '')}'><h2>{e(heading)}</h2>"
                    + (f"<p class='muted'>{e(task)}</p>" if task else "")
                    + (f"<p>{e(headline)}</p>" if headline else "")
                    + ("<ul>" + "".join(f"<li>{e(d)}</li>" for d in details) + "</ul>" if details else "")
                    + (f"<p><strong>{e(_override(ov))}</strong></p>" if ov else "") + "</section>")
    return _page(f"Feedback: {_title(row)}", body)


def write(files: Outputs, name: str, row: dict) -> str:
    """Write an entry's feedback (Markdown and page); its stem."""
    stem = stem_of(name, row)
    text, page = feedback_text(name, row), feedback_html(name, row)   # both made before either is written
    atomic_write(files.feedback(stem), text)
    atomic_write(files.feedback_html(stem), page)
    return stem


# --------------------------------------------------------------------------- for the instructor

def index_html(rows: list[tuple[str, dict]], files: Outputs) -> str:
    """The instructor's index: one line per entry (learner, submission, assignment, score,
    status, reason) with a link to its page."""
    e = html.escape
    folder = files.feedback_dir.name
    lines = []
    for name, row in sorted(rows, key=lambda nr: (nr[1].get("learner") or "", nr[0])):
        href = f"{folder}/{stem_of(name, row)}.html"
        lines.append(f"<tr><td>{e(display(row.get('learner') or ''))}</td><th scope='row'>{e(display(name))}</th>"
                     f"<td>{e(row.get('assignment') or '')}</td><td>{e(_score(row))}</td><td>{e(row['status'])}</td>"
                     f"<td>{e(row['reason'])}</td><td><a href='{e(href, quote=True)}'>page</a></td></tr>")
    return _page(f"Feedback pages: {files.csv.stem}", [
        f"<h1>Feedback pages: {e(files.csv.stem)}</h1>",
        f"<p>{len(rows)} entries; each page is in <code>{e(folder)}/</code> (with its Markdown). This index is "
        "for the instructor: do not send it to learners.</p><div class='wide'><table><thead><tr>"
        "<th scope='col'>Learner</th><th scope='col'>Submission</th><th scope='col'>Assignment</th>"
        "<th scope='col'>Score</th><th scope='col'>Status</th><th scope='col'>What the grader found</th>"
        "<th scope='col'>Feedback</th></tr></thead><tbody>", *lines, "</tbody></table></div>"])


def moodle_participant(name: str) -> tuple[str, str] | None:
    """``(full name, participant id)`` of an entry named as in Moodle's "Download all
    submissions" (``Ada Lovelace_1234567_assignsubmission_file``, a folder or a file), else ``None``."""
    m = MOODLE_PART.fullmatch(name)
    return (m["name"], m["id"]) if m else None


def archive(rows: list[tuple[str, dict]], files: Outputs, kind: str) -> tuple[bytes, list[str]]:
    """``(zip bytes, entries left out)`` of the feedback pages of ``rows`` (one gradebook's).
    ``files``: each page as ``<stem>.html``. ``moodle``: each page in the folder Moodle's
    feedback-zip upload matches to the participant (``<name>_<participant id>_assignfeedback_file/``);
    entries not named as in Moodle's download are left out."""
    buf, left, members = io.BytesIO(), [], set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, row in rows:
            stem = stem_of(name, row)
            page = files.feedback_html(stem)
            if not page.is_file():
                left.append(display(name))
                continue
            if kind == "moodle":
                who = moodle_participant(name)
                if who is None:
                    left.append(display(name))
                    continue
                person = "".join(ch for ch in who[0] if ch.isalnum() or ch in " .-").strip(" .") or "Participant"
                member = f"{person}_{who[1]}_assignfeedback_file/feedback_{row.get('assignment') or 'none'}.html"
            else:
                member = f"{stem}.html"
            if member in members:   # a second entry of the same participant: which one is meant is for a person to say
                left.append(display(name))
                continue
            members.add(member)
            info = zipfile.ZipInfo(member, (2000, 1, 1, 0, 0, 0))
            info.external_attr = 0o600 << 16
            z.writestr(info, page.read_bytes(), zipfile.ZIP_DEFLATED)
    return buf.getvalue(), left


def write_all(rows: list[tuple[str, dict]], files: Outputs, kind: str | None = None, log=print) -> list[Path]:
    """Write the instructor's index and, with ``kind`` (one of :data:`ARCHIVES`), one feedback
    archive per gradebook (the overview of a mixed folder has none); their paths."""
    atomic_write(files.feedback_index, index_html(rows, files))
    written = [files.feedback_index]
    for path, (a, mine) in (gradebooks(rows, files.csv).items() if kind else ()):
        if a is None:
            continue
        data, left = archive(mine, files, kind)
        target = Outputs.feedback_archive(path)
        atomic_write(target, data)
        written.append(target)
        if left:
            log(f"not in {target.name} ({'not named as in a Moodle download, or twice' if kind == 'moodle' else 'no page'}):"
                f" {', '.join(left[:20])}" + (f" and {len(left) - 20} more" if len(left) > 20 else ""))
    return written
