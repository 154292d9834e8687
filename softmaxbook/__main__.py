"""Command line of the course package.

    python -m softmaxbook list                                  # the graded exercises
    python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv   # the batch grader (needs bubblewrap;
                                                                # --no-sandbox: trusted submissions only)
"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m softmaxbook", description="Command line of the course package.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("list", help="the graded exercises: id, task, expected answer")
    sub.add_parser("grade", add_help=False, help="the batch grader (see: python -m softmaxbook grade --help)")
    args, rest = ap.parse_known_args(argv)
    if args.command == "list":
        if rest:
            ap.error(f"unrecognized arguments: {' '.join(rest)}")
        from .grader.registry import listing
        for ex_id, task, answer in listing():
            print(f"{ex_id:<22} {task}\n{'':<22} answer: {answer}")
        return 0
    if args.command == "grade":
        from .grader.command import main as grade_main
        return grade_main(rest)
    ap.print_help(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
