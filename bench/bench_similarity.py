"""Benchmark of "submissions that look alike" (the batch grader's class report): prints
measured figures, asserts nothing.

A seeded synthetic class of N submissions answers every exercise that is compared (not the
multiple-choice ones): right with probability 0.6, else a wrong value drawn from 60 per
exercise (so that honest submissions share rare wrong answers by chance), a function
answer with the key's solution or one of its declared misconceptions, all in MyST
notebook text. Three groups are planted: a pair sharing two wrong answers nobody else
gives, a pair with the same function code renamed and reformatted, and a trio sharing
two such wrong answers. Figures: the time to fingerprint the submissions (done where each
is graded, here all in one process), to find the groups, and the class report's page with
and without the section, in the same run (ratio: what the section adds to the page);
then the groups found, against the planted ones.

Run:  .venv/bin/python bench/bench_similarity.py [--submissions 300] [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from softmaxbook.grader import EXERCISES, similarity  # noqa: E402
from softmaxbook.grader.report import report_html, summarise  # noqa: E402
from test_grader_similarity import LOOP_LSE, LOOP_LSE_RENAMED  # noqa: E402

COMPARED = {i: e for i, e in EXERCISES.items() if e.kind != "choice"}


def _cell(source: str) -> str:
    return f"```{{code-cell}} ipython3\n{source}\n```\n"


def synthetic(n: int, seed: int = 1) -> list:
    """``[(name, answers, row, notebook text)]`` with the planted groups in s0..s6."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        answers, row, cells = {}, {"assignment": "course", "status": "graded", "reason": "", "notes": [],
                                   "scores": {}, "feedback": {}}, [_cell("import numpy as np")]
        for ex_id, ex in COMPARED.items():
            right = rng.random() < 0.6
            if ex.kind == "function":
                cells.append(_cell(ex.hidden.solution if right else rng.choice(list(ex.hidden.misconceptions.values()))))
                records = [{"t": "fn", "name": name, "pickle": ""} for name in ex.names]
                answers[ex_id] = records[0] if len(records) == 1 else {"t": "seq", "v": records}
            else:
                answers[ex_id] = {"t": "text", "v": "reference" if right else f"wrong{rng.randrange(60)}"}
            _score(row, ex_id, right)
        out.append([f"s{k}.md", answers, row, cells])
    for k, answers in ((0, {"ch2.gradient": "copied_1", "ch1.nll": "copied_2"}),
                       (1, {"ch2.gradient": "copied_1", "ch1.nll": "copied_2"}),
                       (4, {"ch3.entropy": "trio_1", "ch4.bound": "trio_2"}),
                       (5, {"ch3.entropy": "trio_1", "ch4.bound": "trio_2"}),
                       (6, {"ch3.entropy": "trio_1", "ch4.bound": "trio_2"})):
        for ex_id, value in answers.items():
            out[k][1][ex_id] = {"t": "text", "v": value}
            _score(out[k][2], ex_id, False)
    for k, source in ((2, LOOP_LSE), (3, LOOP_LSE_RENAMED)):
        out[k][3].append(_cell(source))
    return [(name, answers, row, "\n".join(["# A notebook\n"] + cells)) for name, answers, row, cells in out]


def _score(row: dict, ex_id: str, right: bool) -> None:
    row["scores"][ex_id] = 1.0 if right else 0.0
    row["feedback"][ex_id] = {"status": "correct" if right else "not right yet", "score": row["scores"][ex_id],
                              "message": "", "details": []}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--submissions", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    data = synthetic(args.submissions)
    each, found, with_section, without = [], [], [], []
    for _ in range(args.repeats):
        rows = []
        for name, answers, row, text in data:
            t0 = time.perf_counter()
            row["similar"] = similarity.fingerprint(answers, row, [text])
            each.append(time.perf_counter() - t0)
            rows.append((name, row))
        t0 = time.perf_counter()
        groups = similarity.find(rows)
        found.append(time.perf_counter() - t0)
        stats = summarise(rows)
        for target, similar in ((with_section, None), (without, []), (without, []), (with_section, None)):
            t0 = time.perf_counter()
            report_html(rows, stats, similar=similar)
            target.append(time.perf_counter() - t0)
    n = args.submissions
    print(f"{n} submissions x {len(COMPARED)} compared exercises ({len(EXERCISES)} in all), {args.repeats} repeats")
    print(f"fingerprint per submission: p50 {1000 * statistics.median(each):.2f} ms, "
          f"p95 {1000 * sorted(each)[int(0.95 * len(each))]:.2f} ms; all {n}: {n * statistics.median(each):.3f} s")
    print(f"find the groups: median {1000 * statistics.median(found):.1f} ms")
    a, b = statistics.median(with_section), statistics.median(without)
    print(f"class report page: {a:.3f} s with the section, {b:.3f} s without (A B B A): ratio {a / b:.3f}")
    print("groups found (planted: s0+s1, s2+s3, s4+s5+s6):")
    for g in groups:
        print(f"  {', '.join(g['members'])}: strength {g['strength']:.2f}; "
              + "; ".join(f"{i['exercise']} given by {i['given']}" for i in g["items"]))


if __name__ == "__main__":
    main()
