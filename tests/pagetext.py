"""The text a reader sees in a built page's article: no code, no math, no references."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

#: Subtrees left out: code, math (MathJax reads the TeX source), scripts, and the entries
#: of the bibliography (titles of works stay in their own language).
SKIP_TAGS = {"script", "style", "code", "pre", "kbd", "samp", "math", "svg"}
SKIP_CLASSES = {"math", "citation", "headerlink", "highlight", "cell_input", "cell_output"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _ArticleText(HTMLParser):
    def __init__(self, skip_links=lambda href: False):
        super().__init__(convert_charrefs=True)
        self.skip_links = skip_links
        self.depth = 0          # inside <article class="bd-article">
        self.skip = 0           # inside a skipped subtree (counted in open tags)
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        if self.depth == 0:
            if tag == "article" and "bd-article" in classes:
                self.depth = 1
            return
        self.depth += 1
        if (self.skip or tag in SKIP_TAGS or classes & SKIP_CLASSES
                or (tag == "a" and self.skip_links(dict(attrs).get("href") or ""))):
            self.skip += 1

    def handle_endtag(self, tag):
        if tag in VOID or self.depth == 0:
            return
        self.depth -= 1
        if self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if self.depth and not self.skip:
            self.parts.append(data)


def article_text(path: Path, skip_links=lambda href: False) -> str:
    """The visible prose of the page at ``path`` (whitespace collapsed).

    ``skip_links(href)`` true leaves out a link's text (e.g. the title of a page that is
    not translated yet, which a cross-reference shows in English).
    """
    parser = _ArticleText(skip_links)
    parser.feed(Path(path).read_text(encoding="utf-8"))
    return " ".join(" ".join(parser.parts).split())


def links_to_pending_pages(page: str, translated):
    """``skip_links`` for :func:`article_text` on ``page``: links to a page of the book that is
    not in ``translated`` (their text is that page's title, still in English)."""
    def pending(href: str) -> bool:
        target = urlsplit(urljoin(f"http://site/{page}.html", href))
        name = target.path.removeprefix("/").removesuffix(".html")
        return target.netloc == "site" and name != page and name not in translated
    return pending
