"""Coding three equiprobable symbols (chapter 3)."""

from __future__ import annotations

import math


def block_bits(n: int) -> int:
    """Bits of a fixed-length code for a block of ``n`` trits: ``ceil(n log2 3)`` (chapter 3).

    Computed exactly as the bit length of ``3**n - 1`` (no floating point).
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"block length must be an integer n >= 1, got {n!r}")
    return (3**n - 1).bit_length()


def entropy_bits(probs) -> float:
    """Shannon entropy in bits of a probability vector (chapter 3)."""
    return -sum(q * math.log2(q) for q in probs if q > 0)
