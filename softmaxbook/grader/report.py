"""What the class got wrong (graded exercises, all chapters).

Written by the batch grader (:func:`.batch.grade_folder`) next to its gradebook ``-o grades.csv``:

- ``grades_report.html``: a self-contained page (the chart is an embedded PNG) with, per
  assignment and exercise, how many submissions were right, the score distribution and the
  misconceptions named in the feedback with their counts, most frequent first; then the
  submissions that need a look (status and reason) and the submissions that look alike
  (:mod:`.similarity`: flags, not verdicts);
- ``grades_report.csv``: the same figures, one line per exercise and misconception;
- ``grades_similar.csv``: the submissions that look alike, one line per group and shared answer;
- when learners are known (a roster, or a Canvas archive's file names: :mod:`.lms`), per
  gradebook ``grades_<a>_canvas.csv`` and ``grades_<a>_moodle.csv``: one line per learner.

A misconception is counted when the feedback of a wrong answer carries the text the answer
key declares for it (:meth:`.kinds.Exercise.misconceptions`); other wrong answers are counted
as "other wrong answer".
"""

from __future__ import annotations

import base64
import csv
import html
import io
from collections import Counter
from pathlib import Path

from .. import i18n
from . import lms, registry, similarity
from .assignments import COURSE, assignments
from .gradebook import Outputs, spreadsheet_cell
from .learner import atomic_write
from .submissions import display

OTHER = "other wrong answer (no known misconception)"
BINS = ("0", "partly right", "right")


def declared(ex_id: str) -> list[str]:
    """Feedback texts of the misconceptions the key declares for an exercise: its wrong
    answers, and for a function exercise the misconceptions its hidden tests diagnose."""
    ex = registry.EXERCISES[ex_id]
    hidden = getattr(getattr(ex, "hidden", None), "misconceptions", None) or {}
    return [text for _, text in ex.misconceptions()] + list(hidden)


def misconception(ex_id: str, message: str) -> str:
    """The declared misconception whose feedback ``message`` carries (``OTHER`` if none), named
    by its English text (the message id) whatever the language the feedback was written in."""
    for text in declared(ex_id):
        if text and any(t and t in message for t in _languages(text)):
            return getattr(text, "msgid", text)
    return OTHER


def _languages(text) -> list[str]:
    """``text`` in every language of the course (a :class:`~softmaxbook.i18n.Message`), or itself."""
    return [text.text(lang) for lang in i18n.LANGUAGES] if isinstance(text, i18n.Message) else [text]


def summarise(rows) -> dict:
    """``{exercise id: {"n", "right", "bins": Counter, "wrong": Counter, "unanswered"}}`` over
    the rows whose assignment has that exercise (in course order)."""
    stats = {}
    for ex_id in registry.EXERCISES:
        st = {"n": 0, "right": 0, "bins": Counter(), "wrong": Counter(), "unanswered": 0}
        for _, row in rows:
            if ex_id not in row.get("scores", {}):
                continue
            score, fb = row["scores"][ex_id], row.get("feedback", {}).get(ex_id)
            st["n"] += 1
            st["right"] += score >= 1
            st["bins"][BINS[2] if score >= 1 else BINS[1] if score > 0 else BINS[0]] += 1
            if fb is None or fb["status"] == "not answered yet":
                st["unanswered"] += 1
            elif score < 1:
                st["wrong"][misconception(ex_id, fb["message"])] += 1
        if st["n"]:
            stats[ex_id] = st
    return stats


def _ordered(counter: Counter) -> list[tuple[str, int]]:
    """Most frequent first; ``OTHER`` after the named ones of the same count."""
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0] == OTHER, kv[0]))


def report_csv(stats: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["exercise", "submissions", "right", "share_right", "score_0", "score_partly", "score_right",
                "not_answered", "misconception", "count"])
    for ex_id, st in stats.items():
        head = [ex_id, st["n"], st["right"], f"{st['right'] / st['n']:.3f}"] + [st["bins"][b] for b in BINS] \
            + [st["unanswered"]]
        for text, count in _ordered(st["wrong"]) or [("", 0)]:
            w.writerow(head + [text, count])
    return buf.getvalue()


def chart_png(stats: dict) -> bytes:
    """Horizontal stacked bars per exercise: share of submissions with 0, partly right, right."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ids = list(stats)[::-1]
    fig, ax = plt.subplots(figsize=(7.5, 0.26 * len(ids) + 1.2), dpi=100)
    left = [0.0] * len(ids)
    colours = {"0": "#d55e00", "partly right": "#e69f00", "right": "#0072b2"}   # Okabe-Ito, safe for CVD
    for b in BINS[::-1]:   # "right" from the axis, so that its share reads off the scale
        share = [100 * stats[i]["bins"][b] / stats[i]["n"] for i in ids]
        ax.barh(ids, share, left=left, color=colours[b], label=b, edgecolor="white", linewidth=0.5)
        left = [x + y for x, y in zip(left, share)]
    ax.set_xlim(0, 100)
    ax.set_xlabel("share of submissions (%)")
    ax.legend(ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def report_html(rows, stats: dict, title: str = "Class report", similar=None) -> str:
    """The class report's page; ``similar``: the groups of :func:`.similarity.find` over
    ``rows`` with display names (found here when ``None``)."""
    e = html.escape
    statuses = Counter(r["status"] for _, r in rows)
    alt = "Share of submissions right per exercise: " + "; ".join(
        f"{i} {100 * st['right'] / st['n']:.0f} % right" for i, st in stats.items())
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{e(title)}</title>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'><style>"
             "body{font:16px/1.5 system-ui,sans-serif;max-width:62rem;margin:1rem auto;padding:0 1rem;color:#1a1a1a}"
             "table{border-collapse:collapse;margin:0.5rem 0 1.5rem;width:100%}"
             "th,td{border:1px solid #bbb;padding:0.3rem 0.5rem;text-align:left;vertical-align:top}"
             "thead th{background:#eef2f7}td.n{text-align:right;font-variant-numeric:tabular-nums}"
             "ol{margin:0;padding-left:1.2rem}img{max-width:100%;height:auto}.muted{color:#555}th .muted{font-weight:normal}"
             "</style></head><body>",
             f"<h1>{e(title)}</h1>",
             f"<p>{len(rows)} entries: " + ", ".join(f"{n} {e(s)}" for s, n in statuses.most_common()) + ".</p>"]
    if stats:
        png = base64.b64encode(chart_png(stats)).decode()
        parts += ["<h2>Share right per exercise</h2>",
                  f"<figure><img src='data:image/png;base64,{png}' alt='{e(alt, quote=True)}'>"
                  "<figcaption class='muted'>Bars: share of submissions per exercise that are right (from the "
                  "axis), partly right, or without points. Figures in the tables below.</figcaption></figure>"]
    for name, a in assignments().items():
        mine = [i for i in a.ids if i in stats]
        if not mine or name == COURSE:
            continue
        parts += [f"<h2>{e(a.title)} <span class='muted'>({e(name)})</span></h2>",
                  "<table><thead><tr><th scope='col'>Exercise</th><th scope='col'>Submissions</th>"
                  "<th scope='col'>Right</th><th scope='col'>Scores: 0 / partly / right</th>"
                  "<th scope='col'>Not answered</th><th scope='col'>Misconceptions named in feedback "
                  "(most frequent first)</th></tr></thead><tbody>"]
        for ex_id in mine:
            st = stats[ex_id]
            wrong = "".join(f"<li>{e(text)} — <strong>{n}</strong></li>" for text, n in _ordered(st["wrong"]))
            parts.append(f"<tr><th scope='row'>{e(ex_id)}<br><span class='muted'>"
                         f"{e(registry.EXERCISES[ex_id].task)}</span></th><td class='n'>{st['n']}</td>"
                         f"<td class='n'>{100 * st['right'] / st['n']:.0f} %</td>"
                         f"<td class='n'>{' / '.join(str(st['bins'][b]) for b in BINS)}</td>"
                         f"<td class='n'>{st['unanswered']}</td>"
                         f"<td>{'<ol>' + wrong + '</ol>' if wrong else 'none'}</td></tr>")
        parts.append("</tbody></table>")
    attention = [(n, r) for n, r in rows if r["status"] != "graded" or r["reason"]]   # a graded one: a cell raised, ...
    if attention:
        parts += ["<h2>Submissions that need a look</h2><table><thead><tr><th scope='col'>Submission</th>"
                  "<th scope='col'>Status</th><th scope='col'>Reason</th></tr></thead><tbody>"]
        parts += [f"<tr><th scope='row'>{e(display(n))}</th><td>{e(r['status'])}</td><td>{e(r['reason'])}</td></tr>"
                  for n, r in attention]
        parts.append("</tbody></table>")
    changed = [(n, ex, o) for n, r in rows for ex, o in r.get("overrides", {}).items()]
    if changed:
        parts += ["<h2>Scores set by hand (overrides)</h2><table><thead><tr><th scope='col'>Submission</th>"
                  "<th scope='col'>Exercise</th><th scope='col'>Graded</th><th scope='col'>Set to</th>"
                  "<th scope='col'>Reason</th></tr></thead><tbody>"]
        parts += [f"<tr><th scope='row'>{e(display(n))}</th><td>{e(ex)}</td><td class='n'>{o['graded']:.3f}</td>"
                  f"<td class='n'>{o['score']:.3f}</td><td>{e(o['reason'])}</td></tr>" for n, ex, o in changed]
        parts.append("</tbody></table>")
    parts.append(similar_html(similarity.find([(display(n), r) for n, r in rows]) if similar is None else similar))
    return "".join(parts) + "</body></html>\n"


def similar_html(groups: list[dict]) -> str:
    """The section on submissions that look alike (:func:`.similarity.find`'s groups)."""
    e = html.escape
    parts = ["<h2>Submissions that look alike</h2>", f"<p><strong>{e(similarity.NOTICE)}</strong></p>",
             f"<p class='muted'>{e(similarity.RULE)}</p>"]
    if not groups:
        return "".join(parts) + "<p>No submissions share uncommon wrong answers or function code.</p>"
    parts.append("<table><thead><tr><th scope='col'>Submissions</th><th scope='col'>Strength</th>"
                 "<th scope='col'>Why they were flagged</th></tr></thead><tbody>")
    for g in groups:
        many = len(g["members"]) > 2
        why = "".join(f"<li>{e(i['exercise'])}: {e(i['why'])} — given by {i['given']} of the {i['answered']} "
                      "submissions that answered it" + (f" ({e(', '.join(i['holders']))} here)" if many else "")
                      + "</li>" for i in g["items"])
        parts.append(f"<tr><th scope='row'>{e(', '.join(g['members']))}</th><td class='n'>{g['strength']:.2f}</td>"
                     f"<td><ul>{why}</ul></td></tr>")
    return "".join(parts) + "</tbody></table>"


def similar_csv(groups: list[dict]) -> str:
    """One line per group and shared answer: group number, strength, members, exercise, why,
    holders, how many gave it, how many answered."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["group", "strength", "submissions", "exercise", "why", "holders", "given_by", "answered_by"])
    cell = spreadsheet_cell
    for k, g in enumerate(groups, start=1):
        w.writerows([k, f"{g['strength']:.2f}", cell("; ".join(g["members"])), i["exercise"], cell(i["why"]),
                     cell("; ".join(i["holders"])), i["given"], i["answered"]] for i in g["items"])
    return buf.getvalue()


def write_all(rows, out_csv, roster=None, log=print) -> list[Path]:
    """Write the class report (with the submissions that look alike) and the LMS files of
    every gradebook (:func:`.lms.write_exports`: raises :class:`.lms.Conflict` when a learner
    has two disagreeing entries); their paths."""
    out_csv = Path(out_csv)
    files = Outputs(out_csv)
    stats = summarise(rows)
    similar = similarity.find([(display(n), r) for n, r in rows])
    written = []
    for path, text in ((files.report(".html"), report_html(rows, stats, f"Class report: {out_csv.stem}", similar)),
                       (files.report(".csv"), report_csv(stats)), (files.similar, similar_csv(similar))):
        atomic_write(path, text)
        written.append(path)
    return written + lms.write_exports(rows, out_csv, roster, log)
