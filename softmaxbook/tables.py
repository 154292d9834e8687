"""Tables of computed values for the chapters: one HTML table, one plain-text view.

:func:`table` takes a header and rows of values and returns a :class:`Table`, which
Jupyter and the website render as an accessible HTML table (column headers with
``scope="col"``, an optional ``<caption>``) and which prints as aligned plain text.
Numbers are formatted here, so a chapter passes values, not strings.

Text in the reader's language (:mod:`softmaxbook.i18n`): a header, a caption or a cell
may be a message, ``_("entry")``; booleans print as the message "yes"/"no". In the book
build the HTML table carries every language and each edition keeps its own.
"""

from __future__ import annotations

import numbers

import numpy as np

from .i18n import _, html

__all__ = ["Table", "table", "format_cell"]


def format_cell(value, digits: int = 4) -> str:
    """One cell as text: ints exactly, reals with ``digits`` significant digits, rest with str.

    Booleans print as ``yes``/``no`` (a translated message: 是/否 in Chinese); a message
    stays a message (a ``str`` that knows its translations); NaN and infinities print as
    ``nan``, ``inf``, ``-inf``; very large or very small reals switch to scientific notation (``1.2e-16``).
    """
    if isinstance(value, (bool, np.bool_)):
        return _("yes") if value else _("no")
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        x = float(value)
        if not np.isfinite(x):
            return str(x)
        if x == 0.0:
            return "0"
        text = f"{x:.{digits}g}"
        if "e" in text:
            mantissa, exponent = text.split("e")
            return f"{mantissa}e{int(exponent)}"
        return text
    return value if isinstance(value, str) else str(value)


class Table:
    """A rectangular table of formatted cells; ``_repr_html_`` for notebooks, ``repr`` as text."""

    def __init__(self, header, rows, caption: str | None = None, digits: int = 4):
        header = list(header)
        if not header:
            raise ValueError("table needs a header with at least one column name")
        names = [h if isinstance(h, str) else str(h) for h in header]
        empty = [i for i, h in enumerate(names) if not h.strip()]
        if empty:
            raise ValueError(f"every column needs a name; column(s) {empty} of the header are empty")
        if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
            raise ValueError(f"digits must be a positive integer, got {digits!r}")
        if isinstance(rows, (str, bytes)):
            raise TypeError("rows must be a list of rows (each a list of cells), got a string")
        cells = []
        for k, row in enumerate(rows):
            if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
                raise TypeError(f"row {k} must be a list of cells, got {type(row).__name__}")
            row = [format_cell(v, int(digits)) for v in row]
            if len(row) != len(names):
                raise ValueError(f"row {k} has {len(row)} cells but the header has {len(names)} columns")
            cells.append(row)
        self.header, self.rows, self.caption = names, cells, caption

    def _repr_html_(self) -> str:
        head = "".join(f'<th scope="col">{html(h)}</th>' for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html(c)}</td>" for c in row) + "</tr>"
                       for row in self.rows)
        caption = f"<caption>{html(self.caption)}</caption>" if self.caption else ""
        return (f'<table class="table">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        widths = [max(len(r[i]) for r in [self.header, *self.rows]) for i in range(len(self.header))]
        line = lambda row: "  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip()
        text = [line(self.header), "  ".join("-" * w for w in widths)] + [line(r) for r in self.rows]
        return "\n".join(([self.caption] if self.caption else []) + text)


def table(header, rows, caption: str | None = None, digits: int = 4) -> Table:
    """Rows of values under a header as a :class:`Table` (chapters 2 and 3).

    ``header`` names every column (no empty names; text or ``i18n._`` messages); each row
    has one value per column.
    Integers print exactly (with thousands separators), reals with ``digits`` significant digits, other values with ``str``.
    """
    return Table(header, rows, caption=caption, digits=digits)
