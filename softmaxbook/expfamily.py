"""Softmax as an exponential family (chapter 1)."""

from __future__ import annotations

import numpy as np


def softmax(o, axis=-1):
    """``p_i = exp(o_i) / sum_j exp(o_j)``, computed stably (chapter 1)."""
    o = np.asarray(o, dtype=float)
    z = np.exp(o - np.max(o, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)
