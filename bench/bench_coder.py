"""Benchmark the trit coder of softmaxbook.coding: rate, exactness, speed against 2-bit packing.

Run:  .venv/bin/python bench/bench_coder.py
Goals (issue 7): on 10^6 random trits, rate <= 1.5863 bits/trit with an exact round
trip (the message length is not a multiple of the block, so the last partial block is
exercised), and encode + decode within 10x of a numpy baseline that packs the same
trits as 2-bit codes, 4 per byte, measured in this same run.
"""

from __future__ import annotations

import math
import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from softmaxbook.coding import LOG2_3, decode, encode, header_bits  # noqa: E402

def pack2(trits: np.ndarray) -> np.ndarray:
    """Baseline encoder: 2 bits per trit, 4 trits per byte (zero-padded to a multiple of 4)."""
    pad = (-trits.size) % 4
    t = np.concatenate([trits, np.zeros(pad, np.uint8)]) if pad else trits
    q = t.reshape(-1, 4)
    return (q[:, 0] << 6) | (q[:, 1] << 4) | (q[:, 2] << 2) | q[:, 3]


def unpack2(packed: np.ndarray, length: int) -> np.ndarray:
    """Baseline decoder: the inverse of pack2."""
    out = np.empty((packed.size, 4), dtype=np.uint8)
    out[:, 0] = packed >> 6
    np.bitwise_and(packed >> 4, 3, out=out[:, 1])
    np.bitwise_and(packed >> 2, 3, out=out[:, 2])
    np.bitwise_and(packed, 3, out=out[:, 3])
    return out.reshape(-1)[:length]


def best_ms(fn, number=5, repeat=7) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e3


def main() -> None:
    length = 10**6  # = 34482 blocks of 29 trits + a final block of 22
    msg = np.random.default_rng(2026).integers(0, 3, length, dtype=np.uint8)

    print(f"== rate and exactness: {length} random trits (seed 2026) ==")
    print(f"entropy log2 3 = {LOG2_3:.6f} bits/trit")
    for n in (5, 17, 29, 40, 41):
        bits = encode(msg, n)
        ok = np.array_equal(decode(bits), msg)
        rate = bits.size / length
        print(f"n = {n:2d}: {bits.size} bits ({header_bits(length, n)} header) -> {rate:.6f} bits/trit, "
              f"{100 * (rate / LOG2_3 - 1):.3f} % above entropy, last block {length % n} trits, "
              f"round trip {'exact' if ok else 'FAILED'}")
    bits = encode(msg, 29)
    rate = bits.size / length
    ok = np.array_equal(decode(bits), msg)
    print(f"goal (n = 29): rate {rate:.6f} <= 1.5863 and exact round trip: "
          f"{'met' if rate <= 1.5863 and ok else 'NOT met'}")
    baseline = pack2(msg)
    assert np.array_equal(unpack2(baseline, length), msg)
    print(f"baseline 2-bit packing: {8 * baseline.size / length:.6f} bits/trit")

    print("\n== speed (best of 7 x 5 runs) ==")
    t_enc = best_ms(lambda: encode(msg, 29))
    t_dec = best_ms(lambda: decode(bits))
    t_penc = best_ms(lambda: pack2(msg))
    t_pdec = best_ms(lambda: unpack2(baseline, length))
    ratio = (t_enc + t_dec) / (t_penc + t_pdec)
    print(f"softmaxbook encode (n = 29)   {t_enc:8.3f} ms   ({length / t_enc / 1e3:6.1f} Mtrit/s)")
    print(f"softmaxbook decode (n = 29)   {t_dec:8.3f} ms   ({length / t_dec / 1e3:6.1f} Mtrit/s)")
    print(f"2-bit pack (baseline)         {t_penc:8.3f} ms")
    print(f"2-bit unpack (baseline)       {t_pdec:8.3f} ms")
    print(f"(encode + decode) / baseline  {ratio:8.2f}x   (goal <= 10x: {'met' if ratio <= 10 else 'NOT met'})")
    t41 = best_ms(lambda: decode(encode(msg[:100_000], 41)), number=1, repeat=3)
    print(f"n = 41 (Python integers, 3**41 > 2**64): encode + decode of 10^5 trits {t41:.1f} ms")
    whole = msg[:3000]
    wb = encode(whole, n=whole.size)
    print(f"whole message as one block (n = L = {whole.size}): body {wb.size - header_bits(whole.size, whole.size)} "
          f"bits vs L log2 3 = {whole.size * LOG2_3:.1f} (ceil = {math.ceil(whole.size * LOG2_3)}), "
          f"round trip {'exact' if np.array_equal(decode(wb), whole) else 'FAILED'}")


if __name__ == "__main__":
    main()
