"""Feedback that teaches without giving the answer away (graded symbolic exercises).

When a wrong symbolic answer matches none of the misconceptions declared in the key, the
key's *probes* of the exercise are tried in turn; the first one the answer fails names
what is wrong with it, never the reference formula:

* ``at``: a point, with the ``name`` of the quantity there ("at d = 0 your expression gives
  0, but LSE(a, a) − a is 0.6931"), or with what ``says`` holds there (a limit);
* ``sign``: ``"positive"`` or ``"nonnegative"`` at every sample point;
* ``swap``: two symbols whose exchange leaves the answer unchanged (symmetry);
* ``sum``: the entries of a vector (or of each row of a matrix, with ``rows = true``) add up to
  this value at every sample point;
* ``symmetric``: a matrix equal to its transpose.

Every probe carries ``says``, the property in words. :func:`holds_for_reference` is how the
key's validation checks that each probe is true of the reference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..i18n import _
from . import compare

KINDS = ("at", "sign", "swap", "sum", "symmetric")


@dataclass
class Probe:
    kind: str
    says: str = ""
    name: str = ""                  # "at": the quantity, named in words or symbols of the course
    at: dict = field(default_factory=dict)      # "at": {Symbol: sympy number}, all symbols
    where: str = ""                 # "at": the point as written in the key ("d = 0")
    sign: str = "positive"          # "sign"
    swap: tuple = ()                # "swap": (Symbol, Symbol)
    total: object = None            # "sum": the value of each sum (sympy number)
    rows: bool = False              # "sum": per row of a matrix


def _fmt(v) -> str:
    if v is None:
        return "undefined"
    return f"{v:.4g}" if v != int(v) or abs(v) >= 1e6 else str(int(v))


def _point_text(point: dict, entries=()) -> str:
    """The point in words, naming only the symbols the learner's answer uses (if any)."""
    used = set().union(*(e.free_symbols for e in entries)) if entries else set()
    shown = {s: v for s, v in point.items() if s in used} or point
    return ", ".join(f"{s.name} = {_fmt(float(v))}" for s, v in shown.items())


def _fails(probe: Probe, entries, values, points, shape, ref_values):
    """The message if ``entries`` (flat; ``values`` at ``points``) break ``probe``, else ``None``.
    A sign is judged only where the reference's own value shows it (rounding can make a
    positive reference 0 at a far point)."""
    if probe.kind == "at":
        mine = compare.evaluate(entries, [probe.at])
        return mine
    if probe.kind == "sign":
        for row, ref_row in zip(values, ref_values):
            for v, r, pt in zip(row, ref_row, points):
                if r is None or r < 0 or (r == 0 and probe.sign == "positive"):
                    continue
                if v is not None and (v < 0 or (v == 0 and probe.sign == "positive")):
                    text = (_("Your expression is negative at {point}, but {says}.") if v < 0
                            else _("Your expression is 0 at {point}, but {says}."))
                    return text.format(point=_point_text(pt, entries), says=probe.says)
        return None
    if probe.kind == "swap":
        a, b = probe.swap
        swapped = [{**pt, a: pt[b], b: pt[a]} for pt in points]
        other = compare.evaluate(entries, swapped)
        for row, orow in zip(values, other):
            for v, w, pt in zip(row, orow, points):
                if v is not None and w is not None and not compare.close(v, w, rtol=1e-6, atol=1e-9):
                    return _("Exchanging {a} and {b} changes your expression (at {point} it gives {value}, "
                             "swapped {swapped}), but {says}.").format(a=a.name, b=b.name, point=_point_text(pt, entries),
                                                                      value=_fmt(v), swapped=_fmt(w), says=probe.says)
        return None
    if probe.kind == "sum":
        groups = [list(range(r * shape[1], (r + 1) * shape[1])) for r in range(shape[0])] if probe.rows \
            else [list(range(len(entries)))]
        target = float(probe.total)
        for j, pt in enumerate(points):
            for g in groups:
                vals = [values[k][j] for k in g]
                if all(v is not None for v in vals) and not compare.close(math.fsum(vals), target, rtol=1e-6, atol=1e-9):
                    text = (_("At {point} the entries of a row add up to {total}, but {says}.") if probe.rows
                            else _("At {point} your entries add up to {total}, but {says}."))
                    return text.format(point=_point_text(pt, entries), total=_fmt(math.fsum(vals)), says=probe.says)
        return None
    if probe.kind == "symmetric":
        n = shape[0]
        for i in range(n):
            for k in range(i + 1, n):
                for v, w, pt in zip(values[i * n + k], values[k * n + i], points):
                    if v is not None and w is not None and not compare.close(v, w, rtol=1e-6, atol=1e-9):
                        return _("Entries ({i},{k}) and ({k},{i}) of your matrix differ (at {point}), but {says}.").format(
                            i=i + 1, k=k + 1, point=_point_text(pt, entries), says=probe.says)
        return None
    raise ValueError(f"unknown probe kind {probe.kind!r}")


def explain(probes, entries, values, points, shape, ref_values, ref_at) -> str | None:
    """The first probe the learner's ``entries`` break, in words; ``ref_values`` are the
    reference's values at ``points``, ``ref_at[i]`` at the ``at`` point of ``probes[i]``
    (``None`` for other kinds)."""
    for probe, ref in zip(probes, ref_at):
        found = _fails(probe, entries, values, points, shape, ref_values)
        if probe.kind != "at":
            if found:
                return found
            continue
        for k, (mine, want) in enumerate(zip(found, ref)):
            if want[0] is None or (mine[0] is not None and compare.close(mine[0], want[0], rtol=1e-6, atol=1e-9)):
                continue
            several = len(entries) > 1
            if several:
                text = (_("At {where} entry {k} of your answer is undefined, but {but}.") if mine[0] is None
                        else _("At {where} entry {k} of your answer gives {value}, but {but}."))
            else:
                text = (_("At {where} your expression is undefined, but {but}.") if mine[0] is None
                        else _("At {where} your expression gives {value}, but {but}."))
            if probe.says:
                but = probe.says
            elif several:
                but = _("entry {k} of {name} is {value}").format(k=k + 1, name=probe.name, value=_fmt(want[0]))
            else:
                but = _("{name} is {value}").format(name=probe.name, value=_fmt(want[0]))
            return text.format(where=probe.where, k=k + 1, value=_fmt(mine[0]) if mine[0] is not None else "",
                               but=but)
    return None


def holds_for_reference(probe: Probe, ref_entries, ref_values, points, shape) -> bool:
    """``probe`` is true of the reference (checked when the key is validated)."""
    return probe.kind == "at" or _fails(probe, ref_entries, ref_values, points, shape, ref_values) is None
