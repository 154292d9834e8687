"""Untrusted JSON (graded exercises, all chapters): the one check of what comes back from
code the grader does not trust.

Three texts are read this way: the jail's document of one notebook (:mod:`.running`), the
function runner's case results (:mod:`.sandbox`) and a dask worker's task result, the row
it graded (:mod:`.cluster`, :func:`.gradebook.check_row`). Each is first held to a size
(:func:`loads`), then its values to :class:`Caps` (:func:`check_plain`): plain JSON data
only (``None``, booleans, numbers, text, lists and, where allowed, objects with short text
keys), of bounded depth, text length, number of values and integer size. Nothing is
unpickled; a failure is a ``ValueError`` saying what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Caps:
    """Bounds of plain data: nesting ``depth`` (the top value is at depth 0), characters of one
    ``text``, ``values`` in all (``None``: not counted), ``int_bits`` of an integer (``None``:
    not bounded), ``objects`` allowed or not and the characters of an object's ``key``."""
    depth: int
    text: int
    values: int | None = None
    int_bits: int | None = None
    objects: bool = True
    key: int = 100


def loads(raw: bytes | str, max_size: int, what: str = "document"):
    """The JSON value of ``raw`` (UTF-8 bytes or text) of at most ``max_size`` bytes or
    characters; ``ValueError`` "<what> too large" or "not JSON"."""
    if len(raw) > max_size:
        raise ValueError(f"{what} too large")
    try:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ValueError("not JSON") from None


def check_plain(x, caps: Caps, budget: list | None = None, depth: int = 0) -> None:
    """Raise ``ValueError`` unless ``x`` is plain data within ``caps``. ``budget``: a one-item
    list of the values still allowed, shared by several calls (default: ``caps.values``)."""
    if budget is None:
        budget = [caps.values]
    if budget[0] is not None:
        budget[0] -= 1
    if (budget[0] is not None and budget[0] < 0) or depth > caps.depth:
        raise ValueError("an answer too large or nested too deeply")
    if x is None or isinstance(x, (bool, int)):
        if caps.int_bits is not None and isinstance(x, int) and x.bit_length() > caps.int_bits:
            raise ValueError("an integer too large")
    elif isinstance(x, float):
        pass
    elif isinstance(x, str):
        if len(x) > caps.text:
            raise ValueError("a text too long")
    elif isinstance(x, list):
        for v in x:
            check_plain(v, caps, budget, depth + 1)
    elif isinstance(x, dict) and caps.objects:
        for k, v in x.items():
            if not isinstance(k, str) or len(k) > caps.key:
                raise ValueError("a key that is not short text")
            check_plain(v, caps, budget, depth + 1)
    else:
        raise ValueError(f"a {type(x).__name__}")


def is_plain(x, caps: Caps) -> bool:
    """:func:`check_plain` as a yes or no."""
    try:
        check_plain(x, caps)
    except ValueError:
        return False
    return True
