"""The circulating answer, claim by claim (issues 12, 21, 22), and short chapter code cells.

The built pages (``make book`` first): every ``div.admonition.circulating-claim`` is a *claim
card*. Each of Z1 ... Z15 has exactly one card, on the chapter that COURSE_SPEC.md assigns it
to. A card carries one verdict of the course's scale (a class ``verdict-*`` and, on the
English pages, the same words at the end of its title, shown as a badge), the quoted claim
(a block quote attributed to the circulating answer, with its premise and definitions), a
one-line correct statement (the first paragraph after the quote, opening in bold), and an
explanation. Right after the card comes a visible code cell with output: the computation the
verdict rests on (Z9 computes nothing, as the spec asks).

Card format, the same in every chapter::

    ```{admonition} Circulating claim Z7 — half right
    :class: circulating-claim verdict-half-right
    :name: claim-z7

    > "translated quote, with its premise" — the circulating answer (see
    > {ref}`the note on sources <note-sources>`)

    **In fact.** One line: what is true.

    **Why.** The explanation, with the numbers of the cell below ({glue:text}`...`).
    ```

The chapter sources: no code cell over about 15 lines (figure code lives in
``softmaxbook.figures``).
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from conftest import ROOT

CHAPTERS = {
    "chapters/01_exponential_family": ["Z1", "Z2"],
    "chapters/02_hessian_is_variance": ["Z3", "Z4", "Z5", "Z6"],
    "chapters/03_coding_three_symbols": ["Z7", "Z8", "Z9", "Z10", "Z11", "Z12"],
    "chapters/04_logsumexp_limits": ["Z13", "Z14", "Z15"],
}
#: The verdict scale, the same on every page: card class -> the words of the English badge.
VERDICTS = {
    "verdict-wrong": "wrong",
    "verdict-half-right": "half right",
    "verdict-incomplete": "right but incomplete",
}
#: The spec asks for one paragraph and no computation for Z9 (channel vs source coding).
NO_COMPUTATION = ("Z9",)
MAX_CELL_LINES = 15
#: "One line" of a correct statement, generously: about two lines of the text column.
MAX_STATEMENT_CHARS = 260
_ID = re.compile(r"\bZ(\d+)\b")


def _claim_blocks(site, page):
    path = site / f"{page}.html"
    assert path.exists(), f"{path} is missing: run `make book` first"
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    return soup.select("div.admonition.circulating-claim")


def _title(block) -> str:
    title = block.select_one(".admonition-title")
    assert title is not None, "a claim card without a title"
    return " ".join(title.get_text().split())


def test_every_claim_id_is_assigned_to_exactly_one_chapter():
    ids = [z for zs in CHAPTERS.values() for z in zs]
    assert sorted(ids, key=lambda z: int(z[1:])) == [f"Z{k}" for k in range(1, 16)]


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_each_claim_appears_once_on_its_chapter(site, page):
    found = []
    for block in _claim_blocks(site, page):
        ids = _ID.findall(_title(block))
        assert len(ids) == 1, f"the title {_title(block)!r} must name exactly one claim id"
        found.append(f"Z{ids[0]}")
    assert sorted(found, key=lambda z: int(z[1:])) == CHAPTERS[page], f"{page}: found {found}"


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_each_card_carries_one_verdict_of_the_scale(site, page):
    for block in _claim_blocks(site, page):
        name = _title(block)
        verdicts = [c for c in block.get("class", []) if c.startswith("verdict-")]
        assert len(verdicts) == 1 and verdicts[0] in VERDICTS, f"{name}: verdict classes {verdicts}"
        words = VERDICTS[verdicts[0]]
        assert name.lower().endswith(words), f"{name}: the title must end with its verdict {words!r}"


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_cards_quote_state_explain_and_precede_their_computation(site, page):
    for block in _claim_blocks(site, page):
        name = _title(block)
        quote = block.find("blockquote")
        said = " ".join(quote.get_text().split()) if quote is not None else ""
        assert "circulating answer" in said, f"{name}: no quote attributed to the circulating answer"
        assert "“" in said or '"' in said, f"{name}: the quote has no quotation marks"
        after = [el for el in quote.find_next_siblings() if el.name == "p"]
        assert len(after) >= 2, f"{name}: a correct statement and an explanation must follow the quote"
        statement = after[0]
        assert statement.find("strong") is not None and statement.get_text().strip().startswith(
            statement.find("strong").get_text().strip()), f"{name}: the statement opens in bold"
        assert len(" ".join(statement.get_text().split())) <= MAX_STATEMENT_CHARS, (
            f"{name}: the correct statement is one line, not {len(statement.get_text())} characters")
        text = " ".join(block.get_text().split())
        assert not re.search(r"posted in forums|found in answers", text, re.I), name
        if _ID.search(name).group(0) in NO_COMPUTATION:
            continue
        cell = block.find_next_sibling()
        assert cell is not None and "cell" in (cell.get("class") or []), f"{name}: no code cell right after it"
        output = cell.select_one("div.cell_output")
        assert output is not None and output.get_text(strip=True), f"{name}: the computing cell shows no output"


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_the_page_has_no_other_claim_like_titles(site, page):
    """A claim id written in some other box would escape the count above."""
    soup = BeautifulSoup((site / f"{page}.html").read_text(encoding="utf-8"), "html.parser")
    for title in soup.select(".admonition-title"):
        if re.search(r"Circulating claim", title.get_text()):
            assert "circulating-claim" in title.parent.get("class", []), title.get_text()


def _code_cells(text: str):
    """(first line number, source lines without the ``:option:`` lines) of each code cell."""
    for m in re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.S | re.M):
        lines = m.group(1).splitlines()
        while lines and lines[0].startswith(":"):
            lines.pop(0)
        yield text[:m.start()].count("\n") + 1, [line for line in lines if line.strip()]


@pytest.mark.parametrize("page", list(CHAPTERS))
def test_no_chapter_code_cell_is_over_about_15_lines(page):
    text = (ROOT / f"{page}.md").read_text(encoding="utf-8")
    long = [(line, len(src)) for line, src in _code_cells(text) if len(src) > MAX_CELL_LINES]
    assert not long, f"{page}: code cells over {MAX_CELL_LINES} lines (line, length): {long}"


def test_the_cell_counter_counts():
    text = "x\n```{code-cell} ipython3\n:tags: [remove-input]\na = 1\n\nb = 2\n```\n"
    assert list(_code_cells(text)) == [(2, ["a = 1", "b = 2"])]
