"""Benchmark of the website: build times, page weight, slider latency (prints figures).

    .venv/bin/python bench/bench_site.py [--moves 120] [--keep] [--site _build/html]

Measured in one run, on this machine, against baselines measured in the same run:

1. clean ``jupyter-book build`` (into a temporary folder, never ``_build``) against raw
   execution of the same notebooks with nbclient (goal: <= 1.5x);
2. a rebuild with nothing changed (goal: <= 10 s and <= 0.2x the clean build);
3. bytes transferred by the heaviest chapter/exercise page with all its assets, loaded
   in headless Chromium: raw, and gzip-compressed as a static host would send it
   (goal: <= 1.5 MB);
4. slider input -> redraw latency of the kernel-free figures in headless Chromium over
   >= 100 real key presses per figure, p50 and p95 (goal: p95 <= 16 ms), on a 1280 px
   page and on a 390 px phone (panels stacked). Measured from the ``input`` event's
   timestamp to the end of the figure's redraw with the layout forced (a listener added
   after the figure's own, which calls getBoundingClientRect).

The npm cache of MathJax (``.vendor/``) is reused: a clean build copies MathJax into the
site but does not download it again.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from browser import chromium, open_page, serve  # noqa: E402
from conftest import notebook_paths, toc_files  # noqa: E402

JB = Path(sys.executable).with_name("jupyter-book")


LENIENT = False  # --lenient: measure even when a page is mid-edit and fails


def build(out: Path) -> float:
    t = time.perf_counter()
    done = subprocess.run(
        [str(JB), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True,
    )
    elapsed = time.perf_counter() - t
    if done.returncode != 0:
        warnings = [line for line in done.stderr.splitlines() if "WARNING" in line and "TCP" not in line]
        if not LENIENT:
            sys.exit("the strict build failed (--lenient measures anyway):\n" + "\n".join(warnings[:20]))
        print(f"    (the strict build failed: {len(warnings)} warnings; measured anyway)")
    return elapsed


def raw_execution() -> float:
    from nbrun import execute

    t = time.perf_counter()
    for path in notebook_paths():
        try:
            execute(path)
        except Exception as exc:
            if not LENIENT:
                raise
            print(f"    ({path.relative_to(ROOT)} raised {type(exc).__name__}; measured anyway)")
    return time.perf_counter() - t


def page_weights(browser, base: str) -> list[tuple[str, int, int, list]]:
    """(page, raw bytes, gzip bytes, [(bytes, url)]) of every chapter and exercise page."""
    out = []
    for name in toc_files()[1:]:
        page = browser.new_page()
        bodies: dict[str, bytes] = {}

        def keep(response, bodies=bodies):
            try:
                bodies[response.url] = response.body()
            except Exception:  # redirects have no body
                pass

        page.on("response", keep)
        page.goto(f"{base}{name}.html", wait_until="load")
        page.wait_for_load_state("networkidle")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        page.wait_for_load_state("networkidle")
        page.close()
        raw = sum(len(b) for b in bodies.values())
        gz = sum(len(gzip.compress(b, 6)) for b in bodies.values())
        top = sorted(((len(b), u.removeprefix(base)) for u, b in bodies.items()), reverse=True)[:5]
        out.append((name, raw, gz, top))
    return out


LISTEN = """(root) => {
  const svg = root.querySelector('svg.kfig-svg');
  window.__lat = window.__lat || [];
  root.querySelectorAll('input.kfig-slider').forEach(s => s.addEventListener('input', e => {
    svg.getBoundingClientRect();  // force style and layout of the redrawn SVG
    window.__lat.push(performance.now() - e.timeStamp);
  }));
}"""


def slider_latency(browser, base: str, moves: int, width: int = 1280) -> list[tuple[str, int, list[float]]]:
    """Latencies (ms) of ``moves`` key presses on every kernel-free figure, per figure."""
    out = []
    for name in toc_files()[1:]:
        page, _ = open_page(browser, f"{base}{name}.html", width=width)
        figs = page.locator("figure.kfig")
        for f in range(figs.count()):
            fig = figs.nth(f)
            page.evaluate("() => { window.__lat = []; }")
            fig.evaluate(LISTEN)
            sliders = fig.locator("input.kfig-slider")
            done = 0
            while done < moves:
                for s in range(sliders.count()):
                    slider = sliders.nth(s)
                    slider.focus()
                    slider.press("Home")
                    n = int(slider.get_attribute("max"))
                    for key in ["ArrowRight"] * n + ["ArrowLeft"] * n:
                        page.keyboard.press(key)
                        done += 1
            lat = page.evaluate("() => window.__lat")
            out.append((f"{name} #{f} @{width}px", len(lat), lat))
        page.close()
    return out


def pct(values, q):
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def verdict(ok):
    return "ok" if ok else "MISSED"


def builds_against_raw_execution(tmp: Path) -> None:
    raw = raw_execution()
    print(f"raw nbclient execution of the notebooks : {raw:7.1f} s", flush=True)
    clean = build(tmp)
    rebuild = build(tmp)
    print(f"clean jupyter-book build               : {clean:7.1f} s   = {clean / raw:.2f}x raw"
          f"   (goal <= 1.5x: {verdict(clean <= 1.5 * raw)})")
    print(f"rebuild, nothing changed               : {rebuild:7.1f} s   = {rebuild / clean:.2f}x clean"
          f"   (goal <= 10 s and <= 0.2x: {verdict(rebuild <= 10 and rebuild <= 0.2 * clean)})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--moves", type=int, default=120, help="key presses per figure (>= 100)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary build folder")
    ap.add_argument("--lenient", action="store_true", help="measure even if a notebook or the build fails")
    ap.add_argument("--site", type=Path, help="measure this built site (e.g. _build/html): skips 1 and 2")
    args = ap.parse_args()
    if args.site is not None and not (args.site / "index.html").is_file():
        sys.exit(f"--site {args.site}: no index.html there; build the book first (make book)")
    global LENIENT
    LENIENT = args.lenient
    tmp = Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        where = args.site or f"build in {tmp}"
        print(f"bench_site: {len(notebook_paths())} notebooks, {len(toc_files())} pages, {where}")
        if args.site is None:
            builds_against_raw_execution(tmp)
        site = args.site or tmp / "_build" / "html"
        with serve(site) as base, chromium() as browser:
            weights = page_weights(browser, base)
            name, rawb, gzb, top = max(weights, key=lambda w: w[1])
            print(f"heaviest page with all assets          : {name}: {rawb / 1e6:.2f} MB raw, "
                  f"{gzb / 1e6:.2f} MB gzip   (goal <= 1.5 MB transferred: gzip as static hosts send it "
                  f"{verdict(gzb <= 1.5e6)}; uncompressed {verdict(rawb <= 1.5e6)})")
            for size, url in top:
                print(f"    {size / 1e6:6.3f} MB  {url}")
            for n, r, g, _ in weights:
                print(f"    page {n:40s} {r / 1e6:5.2f} MB raw  {g / 1e6:5.2f} MB gzip")
            lat = [r for width in (1280, 390) for r in slider_latency(browser, base, args.moves, width)]
        if not lat:
            print("slider latency                         : no kernel-free figure in the book")
        allv = [v for _, _, vs in lat for v in vs]
        for fig, n, vs in lat:
            print(f"    slider latency {fig:48s} {n:4d} moves  p50 {pct(vs, 50):5.2f} ms  p95 {pct(vs, 95):5.2f} ms"
                  f"  max {max(vs):5.2f} ms")
        if allv:
            p95 = pct(allv, 95)
            print(f"slider input -> redraw, all figures     : {len(allv)} moves, p50 {pct(allv, 50):.2f} ms, "
                  f"p95 {p95:.2f} ms   (goal p95 <= 16 ms: {verdict(p95 <= 16)})")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
