"""The instructor's batch grader: ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.

Graded exercises, all chapters. For each submitted notebook (``.ipynb`` or jupytext
``.md``):

1. its outputs are dropped and it is executed top to bottom in a fresh kernel
   (nbclient; errors do not stop it, a cell that times out is interrupted, and a
   watchdog kills the kernel when the whole notebook exceeds its time budget);
2. the answers the learner checked are collected as plain data (see :mod:`.answers`),
   never a verdict: ``check`` appends each one to a journal file named by the grader
   (so answers checked before a crash or an endless cell survive), and a last cell,
   added by the grader with a random marker, prints the final set;
3. every answer is graded again *in the grader's process* (functions re-run from
   their source in the sandbox, with stricter hidden tests). Printed outputs, a
   redefined ``check`` or a patched package in the learner's kernel cannot change this.

The gradebook CSV (one row per submission, one column per exercise, total) is written
atomically after every submission, with a state file of content hashes so that an
interrupted run resumes where it stopped and unchanged submissions are not re-run.
Two worker processes grade in parallel. A broken submission gets a row with the reason.
"""

from __future__ import annotations

import concurrent.futures as cf
import csv
import hashlib
import io
import json
import os
import secrets
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import registry
from .learner import atomic_write

GRADER_VERSION = "1"
SUFFIXES = (".ipynb", ".md")
MAX_HARVEST = 5_000_000


def find_submissions(folder: Path) -> dict[str, list[Path]]:
    """Submissions in ``folder``: each notebook file at the top is one submission; each
    sub-folder is one learner's submission made of every notebook inside it."""
    folder = Path(folder)
    units = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix in SUFFIXES:
            units[p.name] = [p]
        elif p.is_dir():
            files = [q for q in sorted(p.rglob("*")) if q.is_file() and q.suffix in SUFFIXES
                     and not any(part.startswith(".") for part in q.relative_to(p).parts)]
            if files:
                units[p.name] = files
    return units


def content_hash(paths) -> str:
    h = hashlib.sha256(GRADER_VERSION.encode())
    for p in paths:
        h.update(str(Path(p).name).encode() + b"\0")
        h.update(Path(p).read_bytes())
    return h.hexdigest()


# --------------------------------------------------------------------------- one submission

def _read(path: Path):
    import warnings

    import nbformat
    warnings.filterwarnings("ignore", module="nbformat")
    if path.suffix == ".md":
        import jupytext
        return jupytext.read(path)
    with open(path, encoding="utf-8") as f:
        nb = nbformat.read(f, as_version=4)
    if not isinstance(nb.get("cells"), list):
        raise ValueError("no list of cells")
    return nb


def _harvest_code(nonce: str) -> str:
    return ("import json as _j\n"
            "try:\n"
            "    import softmaxbook.grader.learner as _L\n"
            "    _d = _L.submitted()\n"
            "except Exception:\n"
            "    _d = {}\n"
            f"print({nonce!r} + _j.dumps(_d, default=str))\n")


def execute_submission(path: Path, cell_timeout: float = 60, total_timeout: float = 600):
    """Run the notebook in a fresh kernel; return ``(answers, notes, reason)``.

    ``answers`` maps exercise ids to plain-data answers (or is ``None`` when they
    could not be collected; ``reason`` then says why). ``notes`` lists cells that raised.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    try:
        nb = _read(path)
    except Exception as exc:
        return None, [], f"malformed notebook: {type(exc).__name__}: {str(exc)[:200]}"
    cells = []
    for c in nb.cells:
        if c.get("cell_type") == "code":
            c["outputs"], c["execution_count"] = [], None
            cells.append(c)
    nonce = "SOFTMAXBOOK-" + secrets.token_hex(16) + ":"
    harvest = nbformat.v4.new_code_cell(_harvest_code(nonce))
    nb.cells = [c for c in nb.cells if c.get("cell_type") in ("code", "markdown", "raw")] + [harvest]
    with tempfile.TemporaryDirectory(prefix="softmaxbook-grade-") as tmp:
        os.environ["SOFTMAXBOOK_PROGRESS"] = os.path.join(tmp, "progress.json")
        journal = os.path.join(tmp, "answers.jsonl")
        os.environ["SOFTMAXBOOK_HARVEST"] = journal
        client = NotebookClient(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                                interrupt_on_timeout=True, resources={"metadata": {"path": tmp}})
        killed = threading.Event()

        def watchdog():
            try:
                pid = client.km.provisioner.process.pid
                killed.set()
                os.kill(pid, signal.SIGKILL)
            except Exception:
                pass

        timer = threading.Timer(total_timeout, watchdog)
        timer.start()
        reason = None
        try:
            client.execute()
        except DeadKernelError:
            reason = ("time limit for the whole notebook exceeded" if killed.is_set()
                      else "the kernel died while running the notebook (a crash or os._exit?)")
        except Exception as exc:
            reason = ("time limit for the whole notebook exceeded" if killed.is_set()
                      else f"the notebook could not be executed: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            timer.cancel()
        journalled = _read_journal(journal)
    notes = []
    for k, c in enumerate(nb.cells[:-1]):
        for o in c.get("outputs", []) if c.get("cell_type") == "code" else []:
            if o.get("output_type") == "error":
                notes.append(f"cell {k + 1} raised {o.get('ename')}")
    text = "".join(o.get("text", "") for o in harvest.get("outputs", []) if o.get("output_type") == "stream")
    lines = [ln for ln in text.splitlines() if ln.startswith(nonce)]
    answers = None
    if lines and len(lines[-1]) <= MAX_HARVEST:
        try:
            answers = json.loads(lines[-1][len(nonce):])
        except (ValueError, RecursionError):
            answers = None
    if isinstance(answers, dict):
        answers = {**journalled, **{str(k): v for k, v in answers.items() if isinstance(v, dict)}}
    elif journalled:  # the kernel died or hung: keep what was checked before
        answers = journalled
        reason = reason or "the answers were collected from the journal (the last cell did not finish)"
    else:
        return None, notes, reason or "the answers could not be collected (the last cell did not finish)"
    return answers, notes, reason


def _read_journal(path: str) -> dict:
    """Answers appended by ``check`` while the notebook ran (the last one per id wins)."""
    out = {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_HARVEST)
    except OSError:
        return out
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(rec, dict) and isinstance(rec.get("id"), str) and isinstance(rec.get("answer"), dict):
            out[rec["id"][:60]] = rec["answer"]
    return out


def grade_answers(answers: dict) -> tuple[dict, list[str]]:
    """Grade plain-data answers in this process (strict hidden tests); ``({id: Result}, notes)``."""
    results, notes = {}, []
    for ex_id, ex in registry.EXERCISES.items():
        ans = answers.get(ex_id)
        if ans is None:
            results[ex_id] = registry.Result(ex_id, False, 0.0, "no answer was checked for this exercise",
                                             answered=False)
            continue
        try:
            results[ex_id] = ex.grade(ans, live=None, strict=True)
        except Exception as exc:
            results[ex_id] = registry.Result(ex_id, False, 0.0, f"the answer could not be graded ({type(exc).__name__})")
    unknown = sorted(set(answers) - set(registry.EXERCISES))
    if unknown:
        notes.append("unknown exercise ids ignored: " + ", ".join(unknown[:10]))
    return results, notes


def grade_submission(paths, cell_timeout: float = 60, total_timeout: float = 600) -> dict:
    """Execute and grade one submission (one or more notebooks); a plain row, never raises."""
    t0 = time.perf_counter()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    try:
        answers, notes, reasons = None, [], []
        for path in paths:
            got, more, reason = execute_submission(Path(path), cell_timeout, total_timeout)
            prefix = f"{Path(path).name}: " if len(paths) > 1 else ""
            notes += [prefix + n for n in more]
            if reason:
                reasons.append(prefix + reason)
            if got is not None:
                answers = {**(answers or {}), **got}
        reason = "; ".join(reasons)
        if answers is None:
            scores = {i: 0.0 for i in registry.EXERCISES}
            feedback = {}
            status = "error"
        else:
            results, more = grade_answers(answers)
            notes += more
            if not any(r.answered for r in results.values()):
                unknown = sorted(set(answers) - set(registry.EXERCISES))
                reason = reason or ("no graded answer found" + (
                    f"; unknown exercise ids: {', '.join(unknown[:5])}" if unknown
                    else " (answer cells missing, or check(...) never called)"))
            scores = {i: r.score for i, r in results.items()}
            feedback = {i: {"status": r.status, "score": r.score, "message": r.message, "details": r.details}
                        for i, r in results.items()}
            status = "graded" if any(r.answered for r in results.values()) else "error"
    except Exception as exc:  # never stop the batch
        scores, feedback, notes, status = {i: 0.0 for i in registry.EXERCISES}, {}, [], "error"
        reason = f"grader error: {type(exc).__name__}: {str(exc)[:200]}"
    return {"scores": scores, "feedback": feedback, "notes": notes, "status": status,
            "reason": reason or "", "seconds": round(time.perf_counter() - t0, 2)}


# --------------------------------------------------------------------------- the batch

def _csv_text(rows: list[tuple[str, dict]]) -> str:
    ids = list(registry.EXERCISES)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["submission", "status"] + ids + ["total", "max", "percent", "reason"])
    for name, row in rows:
        scores = [row["scores"].get(i, 0.0) for i in ids]
        total = sum(scores)
        w.writerow([_cell(name), row["status"]] + [f"{s:.3f}" for s in scores]
                   + [f"{total:.3f}", len(ids), f"{100 * total / len(ids):.1f}", _cell(row["reason"])])
    return buf.getvalue()


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in learner-controlled text (file names, reasons)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _feedback_text(name: str, row: dict) -> str:
    total = sum(row["scores"].values())
    lines = [f"# Feedback for {name}", "", f"Score: {total:.2f} / {len(row['scores'])} "
             f"({100 * total / len(row['scores']):.0f} %)", ""]
    if row["reason"]:
        lines += [f"**Problem:** {row['reason']}", ""]
    for note in row["notes"]:
        lines.append(f"- note: {note}")
    for ex_id, ex in registry.EXERCISES.items():
        fb = row["feedback"].get(ex_id)
        if fb is None:
            lines += [f"## {ex_id} — 0 %", "not graded", ""]
            continue
        lines += [f"## {ex_id} — {fb['status']}, {fb['score']:.0%}", "", ex.task, "", fb["message"]]
        lines += [f"- {d}" for d in fb["details"]] + [""]
    return "\n".join(lines) + "\n"


def _safe_name(rel: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in rel)


def grade_folder(folder, out_csv, workers: int = 2, cell_timeout: float = 60, total_timeout: float = 600,
                 log=print) -> list[tuple[str, dict]]:
    """Grade every submission in ``folder``; write ``out_csv``, its state file and feedback files."""
    folder, out_csv = Path(folder), Path(out_csv)
    state_path = out_csv.with_name(out_csv.name + ".state.json")
    fb_dir = out_csv.with_name(out_csv.stem + "_feedback")
    try:
        state = json.loads(state_path.read_text())
        if not isinstance(state, dict):
            state = {}
    except (OSError, ValueError):
        state = {}
    names = find_submissions(folder)
    hashes = {n: content_hash(p) for n, p in names.items()}
    todo = [n for n in names if state.get(n, {}).get("hash") != hashes[n]]
    done_before = len(names) - len(todo)
    log(f"{len(names)} submissions in {folder}: {done_before} already graded and unchanged, {len(todo)} to grade "
        f"with {workers} workers")

    def write_all():
        rows = [(n, state[n]["row"]) for n in names if n in state and state[n].get("hash") == hashes[n]]
        atomic_write(out_csv, _csv_text(rows))
        return rows

    def finish(name, row, k):
        state[name] = {"hash": hashes[name], "row": row}
        atomic_write(state_path, json.dumps(state))
        atomic_write(fb_dir / (_safe_name(Path(name).stem if Path(name).suffix in SUFFIXES else name) + ".md"),
                     _feedback_text(name, row))
        write_all()
        pct = 100 * sum(row["scores"].values()) / max(1, len(row["scores"]))
        log(f"[{done_before + k}/{len(names)}] {name}: {pct:.0f} %  ({row['seconds']:.1f} s)"
            + (f"  — {row['reason']}" if row["reason"] else ""))

    k = 0
    pending = list(todo)
    while pending:
        with cf.ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_submission, [str(q) for q in names[n]], cell_timeout, total_timeout): n for n in pending}
            broken = []
            for fut in cf.as_completed(futures):
                name = futures[fut]
                try:
                    row = fut.result()
                except Exception as exc:  # a worker killed by a submission
                    broken.append(name)
                    continue
                k += 1
                finish(name, row, k)
        if broken and len(broken) == len(pending):
            for name in broken:  # grade each alone; if it still breaks the worker, that is its row
                with cf.ProcessPoolExecutor(max_workers=1) as pool:
                    try:
                        row = pool.submit(grade_submission, [str(q) for q in names[name]], cell_timeout, total_timeout).result()
                    except Exception as exc:
                        row = {"scores": {i: 0.0 for i in registry.EXERCISES}, "feedback": {}, "notes": [],
                               "status": "error", "seconds": 0.0,
                               "reason": f"the submission killed the grader's worker ({type(exc).__name__})"}
                k += 1
                finish(name, row, k)
            broken = []
        pending = broken
    rows = write_all()
    log(f"wrote {out_csv} ({len(rows)} rows) and feedback in {fb_dir}")
    return rows


def main(argv=None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="python -m softmaxbook grade",
                                 description="Grade submitted exercise notebooks into a gradebook CSV.")
    ap.add_argument("folder", help="folder of submissions: notebooks (.ipynb or jupytext .md), or one "
                    "sub-folder of notebooks per learner")
    ap.add_argument("-o", "--output", default="grades.csv", help="gradebook CSV (default grades.csv)")
    ap.add_argument("-j", "--workers", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    ap.add_argument("--total-timeout", type=float, default=600, help="seconds per notebook (default 600)")
    args = ap.parse_args(argv)
    if not Path(args.folder).is_dir():
        print(f"error: {args.folder} is not a folder", file=sys.stderr)
        return 2
    grade_folder(args.folder, args.output, args.workers, args.cell_timeout, args.total_timeout,
                 log=lambda s: print(s, flush=True))
    return 0
