"""The batch grader's command line: ``python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv``.

Graded exercises, all chapters. Reads and checks the options (roster, due date and late policy,
overrides), refuses to run without a sandbox unless told ``--no-sandbox``, and hands the folder
to :func:`.batch.grade_folder`; ``--self-test`` alone grades only the submissions made from the
key (:mod:`.selftest`). Every error is one line on stderr and an exit status: 2 for bad input,
1 when the self-test fails or a learner's entries conflict, 130 after Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from . import batch, cgroups, cluster, feedback, jail, late, lms, overrides, selftest


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m softmaxbook grade",
                                 description="Grade submitted exercise notebooks into a gradebook CSV. Each "
                                 "notebook runs in a bubblewrap sandbox.")
    ap.add_argument("folder", nargs="?", help="folder of submissions: notebooks (.ipynb or jupytext .md), or one "
                    "sub-folder of notebooks per learner")
    ap.add_argument("-o", "--output", default="grades.csv", help="gradebook CSV (default grades.csv)")
    ap.add_argument("-j", "--workers", type=int, default=2, help="parallel workers (default 2)")
    ap.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    ap.add_argument("--total-timeout", type=float, default=600, help="seconds per submission: a notebook, or all "
                    "the notebooks of a learner's folder together (default 600)")
    ap.add_argument("--roster", metavar="ROSTER.csv", help="CSV with a 'submission' column (the entry's name in "
                    "the folder) and a 'learner_id' column, optionally 'name', 'sis_user_id', 'sis_login_id', "
                    "'section', 'email', 'submitted_at' (ISO 8601 with zone), 'extension_hours': also writes each "
                    "gradebook for Canvas and Moodle import (so do the file names of a Canvas submissions archive)")
    ap.add_argument("--due", metavar="ISO-TIME", help="due date and time with its zone, e.g. 2026-03-01T23:59+01:00")
    ap.add_argument("--late-penalty", metavar="POLICY", help="with --due: e.g. '10%%/day,max=50%%' (per started "
                    "day, capped), '5%%/hour', 'grace=15m', 'zero-after=2d' (see README)")
    ap.add_argument("--feedback-archive", choices=feedback.ARCHIVES, help="also write the feedback pages of each "
                    "gradebook as one zip (grades_feedback.zip): 'files' (one page per learner), or 'moodle' (the "
                    "folders Moodle's \"Upload multiple feedback files in a zip\" matches to its participants)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the notebooks on this running dask "
                    "scheduler's workers instead of -j local processes (pip install softmaxbook[cluster]; see README)")
    ap.add_argument("--self-test", action="store_true", help="only grade a solved and a shipped submission made "
                    "from the answer key (every run does it first) and say whether they score 100 %% and 0")
    ap.add_argument("--overrides", metavar="OVERRIDES.csv", help="scores set by hand: CSV with the columns "
                    "submission, exercise, score (points), reason; applied after grading on every run")
    ap.add_argument("--regrade", action="store_true", help="grade every submission again (run its notebooks), "
                    "even those unchanged since the last run; each score that moves goes to <stem>_changes.csv")
    ap.add_argument("--no-sandbox", action="store_true",
                    help="run notebooks without bubblewrap: for TRUSTED submissions only (a notebook can then "
                    "read and change anything this user can)")
    args = ap.parse_args(argv)
    cgroups.enter_leaf()   # cgroup v2: a grader alone in its group lets the group hold its jails' groups
    for stream in (sys.stdout, sys.stderr):   # the log names learners' files: never fail on what it prints
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return _main(args)
    except KeyboardInterrupt:   # the pool's workers are stopped (:func:`.batch.run_and_grade`); what is in the state file stays
        print("stopped; rerun to resume", file=sys.stderr, flush=True)
        return 130


def _main(args) -> int:
    if args.self_test and not args.folder:
        if not args.no_sandbox and not jail.available():
            print(f"error: {jail.why_unavailable()}", file=sys.stderr)
            return 2
        client = cluster.connect(args.scheduler) if args.scheduler else None
        with client or contextlib.nullcontext():
            try:
                selftest.run_with(lambda batch: batch.run_and_grade(batch, client, args.workers, args.cell_timeout,
                                                    args.total_timeout, not args.no_sandbox, None, print),
                              not args.no_sandbox, args.scheduler, log=lambda s: print(s, flush=True))
            except selftest.SelfTestFailed as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 1
        return 0
    if not args.folder or not Path(args.folder).is_dir():
        print(f"error: {args.folder or 'no folder given'} is not a folder", file=sys.stderr)
        return 2
    roster = due = policy = None
    try:
        if args.late_penalty is not None and args.due is None:
            raise ValueError("--late-penalty needs --due")
        due = late.parse_due(args.due) if args.due is not None else None
        policy = late.parse_policy(args.late_penalty) if args.late_penalty is not None else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.roster:
        try:
            roster = lms.read_roster(args.roster)
        except ValueError as exc:
            print(f"error: roster {args.roster}: {exc}", file=sys.stderr)
            return 2
    if not args.no_sandbox and not jail.available():
        print(f"error: refusing to run submitted notebooks without a sandbox. {jail.why_unavailable()}\n"
              "Only for submissions you trust: add --no-sandbox.", file=sys.stderr)
        return 2
    try:
        batch.grade_folder(args.folder, args.output, args.workers, args.cell_timeout, args.total_timeout,
                     log=lambda s: print(s, flush=True), sandbox=not args.no_sandbox, roster=roster,
                     scheduler=args.scheduler, overrides_csv=args.overrides, regrade=args.regrade,
                     self_test=True, feedback_archive=args.feedback_archive, due=due, late_policy=policy)
    except selftest.SelfTestFailed as exc:
        print(f"error: {exc}\nNothing was graded.", file=sys.stderr)
        return 1
    except overrides.BadOverrides as exc:   # named with its line
        print(f"error: overrides {args.overrides}: {exc}", file=sys.stderr)
        return 2
    except RuntimeError as exc:   # the dask scheduler cannot be reached or has no worker
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except lms.Conflict as exc:   # everything else is written
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
