"""``python -m softmaxbook.grader.key [--functions]``: check the answer key (course authors).

Loads the key (which parses every formula), then grades every reference and every
declared wrong answer, checks the probes and that no feedback shows a reference; with
``--functions`` also runs each function exercise's solution and declared wrong functions
in the sandbox. Prints what is wrong and exits with status 1, or says it is sound.
"""

from __future__ import annotations

import argparse
import sys

from . import KeyProblem, check, files, load


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m softmaxbook.grader.key", description=__doc__.splitlines()[0])
    ap.add_argument("--functions", action="store_true",
                    help="also run the function exercises' solutions and wrong functions in the sandbox")
    args = ap.parse_args(argv)
    try:
        exercises = load()
    except KeyProblem as exc:
        print(f"the key does not load: {exc}", file=sys.stderr)
        return 1
    problems = check(exercises, functions=args.functions)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    checked = sum(len(e.hidden.misconceptions) if e.kind == "function" else len(e.misconceptions())
                  for e in exercises.values() if args.functions or e.kind != "function")
    print(f"the key is sound: {len(exercises)} exercises in {len(files())} files; {checked} declared wrong "
          f"answers each get their own feedback{'' if args.functions else ' (function answers not run: add --functions)'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
