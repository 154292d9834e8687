"""Helpers of the browser tests: serve the built site, drive headless Chromium, watch a page.

Debian's ``chromium`` (``/usr/bin/chromium``, or ``$SOFTMAXBOOK_CHROMIUM``) is driven by
the Playwright Python package; ``make test`` installs chromium when it is missing.
Every request to a host other than the local server is aborted and recorded, so the
tests prove that pages work offline even on a machine with internet access.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM = os.environ.get("SOFTMAXBOOK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

#: axe-core from the npm registry, fetched at test time (see softmaxbook.sphinxext.vendor_npm).
#: The newest 4.x (4.14.1 finds label-content-name-mismatch and aria-allowed-role that 4.11 missed).
AXE = ("axe-core", "4.14.1",
       "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@contextmanager
def serve(directory: Path):
    """Serve ``directory`` on 127.0.0.1 (a free port) from a thread; yield the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


_OPEN: list = []  # the browser of the outermost chromium() still open in this process


@contextmanager
def chromium():
    """A headless Chromium (Playwright browser) with a fresh temporary profile.

    A use nested in another (two test modules' fixtures) shares the open browser:
    Playwright's sync API cannot start a second one while the first runs in this thread.
    """
    from playwright.sync_api import sync_playwright

    if _OPEN:
        yield _OPEN[0]
        return
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"{CHROMIUM} not found: `make chromium` installs Debian's chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        _OPEN.append(browser)
        try:
            yield browser
        finally:
            _OPEN.clear()
            browser.close()


@dataclass
class Watch:
    """What went wrong while a page loaded: console errors, failed and foreign requests."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return ([f"console error: {m}" for m in self.console_errors]
                + [f"page error: {m}" for m in self.page_errors]
                + [f"failed request: {m}" for m in self.failed]
                + [f"request to another host: {m}" for m in self.foreign])


def watch(page) -> Watch:
    """Record the page's problems; abort any request that leaves the local server."""
    w = Watch()
    page.on("console", lambda msg: msg.type == "error" and w.console_errors.append(
        f"{msg.text} ({msg.location.get('url', '')}:{msg.location.get('lineNumber', '')})"))
    page.on("pageerror", lambda exc: w.page_errors.append(str(exc)))
    page.on("requestfailed", lambda req: w.failed.append(f"{req.url} ({req.failure})"))
    page.on("response", lambda r: r.status >= 400 and w.failed.append(f"{r.url} (HTTP {r.status})"))

    def route(r):
        url = r.request.url
        w.requests.append(url)
        if urlsplit(url).scheme in ("http", "https") and urlsplit(url).hostname not in LOCAL_HOSTS:
            w.foreign.append(url)
            r.abort("internetdisconnected")
        else:
            r.continue_()

    page.route("**/*", route)
    return w


def rgb(css: str) -> tuple[float, ...]:
    """(r, g, b) or (r, g, b, alpha) of a computed CSS colour such as ``rgb(20, 24, 30)``."""
    import re

    values = [float(v) for v in re.findall(r"[\d.]+", css)]
    if not css.startswith("rgb") or len(values) not in (3, 4):
        raise ValueError(f"not a computed rgb() colour: {css!r}")
    return tuple(values)


def luminance(c) -> float:
    """WCAG 2 relative luminance of an sRGB colour (alpha ignored): 0 (black) to 1 (white)."""
    lin = [v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c[:3]]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a, b) -> float:
    """WCAG 2 contrast ratio of two sRGB colours (alpha ignored): 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def open_page(browser, url: str, width: int = 1280, height: int = 900, mode: str | None = None):
    """Open ``url`` in a new page, wait for MathJax's first typesetting; return (page, watch).

    ``mode`` ("light" or "dark") is stored before the page loads, as the theme stores it.
    """
    page = browser.new_page(viewport={"width": width, "height": height})
    if mode is not None:
        page.add_init_script(f"localStorage.setItem('mode', '{mode}'); localStorage.setItem('theme', '{mode}');")
    w = watch(page)
    page.goto(url, wait_until="load")
    page.evaluate(
        "async () => { if (window.MathJax && MathJax.startup && MathJax.startup.promise)"
        " await MathJax.startup.promise; }"
    )
    page.wait_for_load_state("networkidle")
    return page, w
