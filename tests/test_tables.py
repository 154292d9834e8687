"""The one table helper of the chapters (softmaxbook.tables)."""

import numpy as np
import pytest

from softmaxbook.tables import format_cell, table


@pytest.mark.parametrize("value, text", [
    (3, "3"), (np.int64(12345), "12,345"), (0.5, "0.5"), (2 / 3, "0.6667"),
    (np.float64(1.2345678e-16), "1.235e-16"), (0.0, "0"), (float("nan"), "nan"),
    (-np.inf, "-inf"), (True, "yes"), (np.bool_(False), "no"), ("★", "★"), (1e6 + 0.5, "1e6"),
])
def test_cells_are_formatted_by_type(value, text):
    assert format_cell(value) == text


def test_digits_controls_significant_digits():
    assert format_cell(np.pi, digits=2) == "3.1"
    assert table(["x"], [[np.pi]], digits=6).rows == [["3.14159"]]


def test_html_has_scoped_headers_caption_and_escaped_cells():
    t = table(["n", "a < b"], [[1, 0.25], [2, "<i>"]], caption="Two rows & a caption")
    html = t._repr_html_()
    assert html.count('<th scope="col">') == 2
    assert "<caption>Two rows &amp; a caption</caption>" in html
    assert "a &lt; b" in html and "&lt;i&gt;" in html and "<i>" not in html
    assert html.count("<tr>") == 3 and html.count("<td>") == 4
    assert "<caption>" not in table(["n"], [[1]])._repr_html_()


def test_repr_is_an_aligned_text_table():
    t = table(["n", "rate"], [[1, 2.0], [10, 1.6]], caption="rates")
    assert repr(t).splitlines() == ["rates", " n  rate", "--  ----", " 1     2", "10   1.6"]


@pytest.mark.parametrize("header, rows, match", [
    ([], [], "at least one column"),
    (["a", " "], [[1, 2]], r"column\(s\) \[1\]"),
    (["a", "b"], [[1]], "row 0 has 1 cells but the header has 2"),
    (["a"], "abc", "got a string"),
    (["a"], [3], "row 0 must be a list"),
])
def test_bad_tables_are_refused_with_a_message(header, rows, match):
    with pytest.raises((ValueError, TypeError), match=match):
        table(header, rows)


def test_bad_digits_refused():
    with pytest.raises(ValueError, match="digits"):
        table(["a"], [[1.0]], digits=0)
