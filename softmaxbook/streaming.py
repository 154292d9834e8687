"""Streaming LogSumExp: the (m, s) merge and online softmax (chapter 4).

Summarise a block of numbers by ``(m, s)`` with ``m`` its maximum and
``s = sum_i exp(x_i - m)`` (so ``1 <= s <= block size``); then ``LSE = m + log s``.
Two summaries combine without looking at the data again::

    (m1, s1) (+) (m2, s2) = (m, s1 exp(m1 - m) + s2 exp(m2 - m)),   m = max(m1, m2).

The merge is associative and commutative with the neutral element ``(-inf, 0)`` (the
summary of no numbers): any grouping of the blocks, in any order, gives the same LSE
(up to rounding). That is what lets a GPU kernel compute a softmax in one pass over
blocks, rescaling what it has accumulated whenever the running maximum grows --
"online softmax" (Milakov & Gimelshein, "Online normalizer calculation for softmax",
arXiv:1805.02867, 2018), the core of FlashAttention (Dao et al., NeurIPS 2022), where the
accumulator also holds the softmax-weighted sum of value vectors
(:func:`online_weighted_sum`).

No shift is needed in exact arithmetic, but in floating point ``exp(x)`` overflows
above ``log(largest float)``: 709.78 in float64, 88.72 in float32 and only
``log 65504 = 11.09`` in float16 (:func:`float16_overflow`), where the naive
``log(sum(exp(x)))`` breaks at ordinary logits.

The same bound that limits ``LSE`` from above also says which terms hardly matter:
:func:`softmaxbook.lse.logsumexp` skips the exponential of every entry more than a
computable margin below the maximum (:func:`softmaxbook.lse.pruning_margin`), which
moves the exact result by at most 1/16 of an ulp.
"""

from __future__ import annotations

import math
from functools import reduce
from typing import Iterable

import numpy as np

from softmaxbook import checks
from softmaxbook.lse import exp_overflow_threshold, logsumexp

__all__ = [
    "EMPTY", "summarize", "merge", "finish", "streaming_logsumexp", "blocks_of",
    "two_pass_softmax", "online_softmax", "online_weighted_sum", "naive_logsumexp",
    "float16_overflow",
]

#: The summary of no numbers, neutral for :func:`merge`.
EMPTY = (-math.inf, 0.0)


def _state(state) -> tuple[float, float]:
    try:
        m, s = state
        m, s = float(m), float(s)
    except (TypeError, ValueError):
        raise TypeError(f"a summary is a pair (m, s) of numbers, got {state!r}") from None
    if math.isnan(m) or m == math.inf or not (math.isfinite(s) and s >= 0) or (m == -math.inf) != (s == 0):
        raise ValueError(f"not a summary (m, s): need m < inf, s >= 0 finite, and s = 0 exactly when m = -inf; got {state!r}")
    return m, s


def summarize(x) -> tuple[float, float]:
    """``(max x, sum exp(x - max x))`` of a block; ``EMPTY`` for an empty block (chapter 4)."""
    a = checks.vector(x, minus_inf=True, empty=True)
    if a.size == 0 or np.all(a == -np.inf):
        return EMPTY
    m = float(a.max())
    return m, float(np.sum(np.exp(a - m)))


def merge(a, b) -> tuple[float, float]:
    """``(m1, s1) (+) (m2, s2) = (m, s1 e^(m1 - m) + s2 e^(m2 - m))`` with ``m = max(m1, m2)`` (chapter 4).

    Associative and commutative, with neutral element ``EMPTY = (-inf, 0)``. Only
    differences ``m_i - m <= 0`` are exponentiated, so nothing overflows.
    """
    (m1, s1), (m2, s2) = _state(a), _state(b)
    if m1 == -math.inf:
        return m2, s2
    if m2 == -math.inf:
        return m1, s1
    m = max(m1, m2)
    return m, s1 * math.exp(m1 - m) + s2 * math.exp(m2 - m)


def finish(state) -> float:
    """``LSE = m + log s`` of a summary; ``-inf`` for ``EMPTY`` (chapter 4)."""
    m, s = _state(state)
    return -math.inf if m == -math.inf else m + math.log(s)


def blocks_of(x, size: int) -> list[np.ndarray]:
    """``x`` cut into consecutive blocks of ``size`` entries (the last may be shorter) (chapter 4)."""
    a = checks.vector(x, minus_inf=True, empty=True)
    size = checks.positive_int(size, "the block size")
    return [a[i: i + size] for i in range(0, a.size, size)]


def streaming_logsumexp(blocks: Iterable) -> float:
    """LSE of the concatenation of ``blocks``, each read once and summarised, then merged (chapter 4).

    ``blocks`` may be any iterable (a generator that produces them one at a time); only
    one summary is kept in memory.
    """
    return finish(reduce(merge, (summarize(b) for b in blocks), EMPTY))


def two_pass_softmax(x) -> np.ndarray:
    """softmax in two passes: the maximum, then the shifted exponentials and their sum (chapter 4)."""
    a = checks.vector(x, minus_inf=True)
    if np.all(a == -np.inf):
        raise ValueError("softmax is undefined when every entry is -inf (0/0)")
    e = np.exp(a - a.max())
    return e / e.sum()


def online_softmax(x, block: int = 64) -> np.ndarray:
    """softmax with the normaliser from ONE pass over blocks (Milakov & Gimelshein 2018; chapter 4).

    The pass keeps the running summary ``(m, s)``, merging each block's summary into it
    (rescaling ``s`` by ``exp(m_old - m_new)`` when the maximum grows); the outputs are
    then ``exp(x_i - m) / s``. Equal to :func:`two_pass_softmax` up to rounding.
    """
    a = checks.vector(x, minus_inf=True)
    state = reduce(merge, (summarize(b) for b in blocks_of(a, block)), EMPTY)
    if state == EMPTY:
        raise ValueError("softmax is undefined when every entry is -inf (0/0)")
    m, s = state
    return np.exp(a - m) / s


def online_weighted_sum(scores, values, block: int = 64) -> np.ndarray:
    """``sum_i softmax(scores)_i values[i]`` in one pass over blocks, as attention computes it (chapter 4).

    The accumulator is ``(m, s, acc)`` with ``acc = sum_i exp(score_i - m) values[i]``;
    when a block raises the maximum, ``s`` and ``acc`` are both multiplied by
    ``exp(m_old - m_new)``. At the end the answer is ``acc / s``. ``values`` is
    ``(n,)`` or ``(n, k)``; nothing is stored per score, which is the point: the
    weights never exist as a vector.
    """
    a = checks.vector(scores, "scores", minus_inf=True, empty=True)
    V = np.asarray(values, dtype=float)
    if V.ndim not in (1, 2) or V.shape[0] != a.size:
        raise ValueError(f"values must have one entry (or row) per score ({a.size}), got shape {V.shape}")
    if a.size == 0 or np.all(a == -np.inf):
        raise ValueError("softmax weights are undefined for no scores or all scores -inf")
    m, s, acc = -math.inf, 0.0, np.zeros(V.shape[1:])
    for start in range(0, a.size, checks.positive_int(block, "the block size")):
        blk = a[start: start + block]
        m_blk = float(blk.max())
        if m_blk == -math.inf:
            continue
        m_new = max(m, m_blk)
        scale = math.exp(m - m_new) if m > -math.inf else 0.0
        w = np.exp(blk - m_new)
        s = s * scale + float(w.sum())
        acc = acc * scale + w @ V[start: start + block]
        m = m_new
    return acc / s


def naive_logsumexp(x, dtype=np.float16) -> float:
    """The textbook ``log(sum(exp(x)))`` computed in ``dtype``, with no shift (chapter 4).

    Returns ``inf`` once some ``x_i`` exceeds ``log(largest float of dtype)`` (11.09 for
    float16), where the exact answer is still an ordinary number.
    """
    dt = np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"dtype must be a floating type, got {dt}")
    a = checks.vector(x, minus_inf=True, empty=True).astype(dt)
    with np.errstate(over="ignore"):
        return float(np.log(np.sum(np.exp(a), dtype=dt)))


def float16_overflow() -> float:
    """``log 65504 = 11.0898...``: above it ``exp`` overflows in float16 (chapter 4)."""
    return exp_overflow_threshold(np.float16)
