"""Command line of the course package.

    python -m softmaxbook list                                  # the graded exercises
    python -m softmaxbook grade SUBMISSIONS_DIR -o grades.csv   # the batch grader (needs bubblewrap;
                                                                # --no-sandbox: trusted submissions only)
"""

from __future__ import annotations

import sys

USAGE = __doc__


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE.strip())
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "list":
        from .grader.registry import listing
        for ex_id, task, answer in listing():
            print(f"{ex_id:<22} {task}\n{'':<22} answer: {answer}")
        return 0
    if cmd == "grade":
        from .grader.batch import main as grade_main
        return grade_main(rest)
    print(f"unknown command {cmd!r}\n\n{USAGE.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
