"""LogSumExp, the real soft maximum (chapter 4)."""

from __future__ import annotations

import numpy as np


def logsumexp(x, axis=None):
    """Numerically stable ``log(sum(exp(x)))``, shifting by the maximum.

    Introduced in chapter 4. Raises ``ValueError`` on empty input.
    """
    a = np.asarray(x, dtype=float)
    if a.size == 0:
        raise ValueError("logsumexp of an empty array is undefined (log 0 = -inf has no maximum to shift by)")
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out.squeeze(axis=axis) if axis is not None else out.reshape(())[()]
