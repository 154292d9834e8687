"""The translation follows the terminology file (locales/zh_CN/terms.tsv).

For every translated page (``conftest.TRANSLATED_PAGES``): each term whose English form is
in the English page's prose (whole word, any case, plural -s/-es; code, math and the
bibliography's entries left out) has its Chinese form in the Chinese page's prose.
"""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, TRANSLATED_PAGES, ZH_DIR
from pagetext import article_text, links_to_pending_pages
from softmaxbook.editions import TERMS_FILE, read_terms

TERMS = read_terms(ROOT / TERMS_FILE)
CHECKED = [(en, zh) for en, zh, note in TERMS if not note.startswith("unchecked")]


def english_pattern(term: str) -> re.Pattern:
    """``term`` as a whole word or phrase of English prose, singular or plural."""
    return re.compile(r"(?<![\w-])" + re.escape(term) + r"(?:s|es)?(?![\w])", re.IGNORECASE)


def missing_terms(english: str, chinese: str) -> list[tuple[str, str]]:
    return [(en, zh) for en, zh in CHECKED if english_pattern(en).search(english) and zh not in chinese]


def test_the_terminology_file_is_one_chinese_form_per_english_term():
    english = [en.lower() for en, _, _ in TERMS]
    assert len(english) == len(set(english)), "an English term listed twice"
    for must in ["cross-entropy", "log-partition function", "hessian", "exponential family",
                 "prefix-free code", "arithmetic coding", "sufficient statistic", "natural parameter",
                 "fisher information", "kronecker product", "convex conjugate", "cumulant",
                 "uniquely decodable code", "huffman code", "kl divergence", "entropy", "temperature"]:
        assert must in english, must
    assert dict((en.lower(), zh) for en, zh, _ in TERMS)["cross-entropy"] == "交叉熵"


def test_a_malformed_terminology_line_is_refused(tmp_path):
    path = tmp_path / "terms.tsv"
    path.write_text("# comment\ncross-entropy\t交叉熵\nhessian only\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"terms.tsv:3: a term is 'English<TAB>Chinese"):
        read_terms(path)


def test_english_terms_match_whole_words_and_plurals():
    assert english_pattern("Hessian").search("two wrong Hessians")
    assert english_pattern("entropy").search("the entropy of p")
    assert not english_pattern("entropy").search("cross-entropy loss")
    assert not english_pattern("nat").search("the natural logarithm")
    assert missing_terms("the cross-entropy", "交叉熵") == []
    translated = ["intro", "glossary"]       # as if chapter 1 were still pending
    assert links_to_pending_pages("intro", translated)("chapters/01_exponential_family.html#x")
    assert not links_to_pending_pages("intro", translated)("glossary.html#term-Entropy")
    assert not links_to_pending_pages("intro", translated)("https://d2l.ai")
    assert missing_terms("the cross-entropy", "交叉") == [("cross-entropy", "交叉熵")]


@pytest.mark.parametrize("page", TRANSLATED_PAGES)
def test_each_term_of_the_english_page_has_its_chinese_form_on_the_chinese_page(site, page):
    english = article_text(site / f"{page}.html", links_to_pending_pages(page, TRANSLATED_PAGES))
    chinese = article_text(site / ZH_DIR / f"{page}.html", links_to_pending_pages(page, TRANSLATED_PAGES))
    assert chinese and chinese != english
    missing = missing_terms(english, chinese)
    assert not missing, f"{page}: Chinese page lacks the glossary's form of " + \
        ", ".join(f"{en!r} -> {zh}" for en, zh in missing)


def test_the_term_check_is_not_vacuous(site):
    """The translated pages use many of the terms (the check above compares something)."""
    used = {en for page in TRANSLATED_PAGES for en, _ in CHECKED
            if english_pattern(en).search(article_text(site / f"{page}.html"))}
    assert len(used) >= 30, sorted(used)
