"""Benchmark of the second edition: build times of both editions against English only.

    .venv/bin/python bench/bench_editions.py [--repeat 1]

In a temporary folder (never ``_build``), as ``make book`` does:

1. clean English build (``jupyter-book build``, strict, notebooks executed with
   ``SOFTMAXBOOK_LANG=all``): the English-only baseline;
2. the Chinese edition after it (``softmaxbook.editions.build_edition``: the same sources
   with ``language=zh_CN``, the notebooks' cached outputs, copied into ``html/zh_CN``);
3. both again with nothing changed (cached rebuilds).

Prints the seconds, the ratio of both editions to English only (goal: clean < 2x, i.e.
the second language does not double the clean build), and the load average, since the
machine is shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JB = Path(sys.executable).with_name("jupyter-book")


def timed(cmd: list[str]) -> float:
    env = {**os.environ, "SOFTMAXBOOK_LANG": "all"}
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd[:4])} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    if "Executing notebook" in done.stdout + done.stderr and "build_edition" in " ".join(cmd):
        sys.exit("the Chinese edition executed a notebook: its outputs should come from the cache")
    return elapsed


def english(out: Path) -> float:
    return timed([str(JB), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"])


def chinese(out: Path) -> float:
    code = ("import sys; from pathlib import Path; from softmaxbook.editions import build_edition; "
            "build_edition('zh_CN', Path(sys.argv[1]), Path(sys.argv[2]))")
    return timed([sys.executable, "-c", code, str(ROOT), str(out / "_build")])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="clean builds to measure (each in a new folder)")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    rows = []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="bench-editions-") as tmp:
            out = Path(tmp)
            clean_en = english(out)
            clean_zh = chinese(out)
            cached_en = english(out)
            cached_zh = chinese(out)
            rows.append((clean_en, clean_zh, cached_en, cached_zh))
    for clean_en, clean_zh, cached_en, cached_zh in rows:
        print(f"clean:  English only {clean_en:6.1f} s | Chinese edition after it {clean_zh:5.1f} s | "
              f"both {clean_en + clean_zh:6.1f} s = {(clean_en + clean_zh) / clean_en:.2f}x English only")
        print(f"cached: English only {cached_en:6.1f} s | Chinese edition {cached_zh:5.1f} s | "
              f"both {cached_en + cached_zh:6.1f} s = {(cached_en + cached_zh) / cached_en:.2f}x English only")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
