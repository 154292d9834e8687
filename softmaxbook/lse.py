"""LogSumExp, the real soft maximum (chapter 4).

``LSE(x) = log sum_i exp(x_i)`` is the smooth maximum that gives softmax its name.
This module holds what chapter 4 computes with:

* :func:`logsumexp` -- a fast, numerically stable LSE (shift by the maximum, ``log1p``
  of the remaining terms, no avoidable temporaries), with an ``axis`` argument;
* :func:`smooth_max` and :func:`soft_min` -- ``lambda^-1 LSE(lambda x)`` and
  ``-lambda^-1 LSE(-lambda x)``, and :func:`lse_gap`, the gap ``LSE(a, b) - max(a, b)``;
* :func:`exp_overflow_threshold` -- where the naive formula overflows (``log`` of the
  largest float of a dtype);
* :func:`logsumexp_mp` and :func:`ulp_error` -- an mpmath reference and the error in
  units in the last place, used by the tests, the chapter and ``bench/bench_lse.py``.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np

#: Elements processed per step by the whole-array path of :func:`logsumexp`
#: (a 512 KiB float64 buffer stays in the CPU cache; measured in bench/bench_lse.py).
CHUNK = 1 << 16


def _as_float_array(x) -> np.ndarray:
    """``x`` as a floating array: float16/32/64/longdouble kept, integers and bools to float64."""
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "iub":
        return a.astype(np.float64)
    if a.dtype == object and a.size == 0:  # np.asarray([]) is float64 already; this is e.g. [[]]
        return a.astype(np.float64)
    raise TypeError(
        f"logsumexp needs real numbers (floats or integers), got an array of dtype {a.dtype}"
    )


def logsumexp(x, axis=None, keepdims=False):
    """Numerically stable ``log(sum(exp(x)))`` (chapter 4).

    Computed as ``m + log1p(sum_{i != k} exp(x_i - m))`` with ``m = x_k = max(x)``:
    no term of the sum exceeds 1, so nothing overflows, and ``log1p`` keeps the
    digits of the small terms when one entry dominates.

    Parameters
    ----------
    x : array_like of real numbers. float16/float32/float64/longdouble keep their
        dtype; integers and bools are computed in float64.
    axis : None (all entries), an int, or a tuple of ints -- the axes summed over.
    keepdims : keep the summed axes with length 1 (as numpy reductions do).

    Edge cases: any NaN gives NaN; otherwise any ``+inf`` gives ``+inf``; all entries
    ``-inf`` give ``-inf``. An empty reduction raises ``ValueError`` (the sum of no
    exponentials is 0 and ``log 0`` has no finite answer; numpy's own ``max`` of an
    empty array is an error for the same reason).
    """
    a = _as_float_array(x)
    if axis is None:
        if a.size == 0:
            raise ValueError("logsumexp of an empty array is undefined: there is no maximum to shift by "
                             "(and log 0 = -inf); pass at least one number")
        out = _lse_flat(np.ravel(a))
        if keepdims:
            return np.full((1,) * a.ndim, out, dtype=a.dtype)
        return out
    axes = _normalize_axes(axis, a.ndim)
    if any(a.shape[ax] == 0 for ax in axes):
        raise ValueError(f"logsumexp over an empty axis (shape {a.shape}, axis={axis}) is undefined: "
                         "there is no maximum to shift by")
    if len(axes) != 1:  # several axes: move them to the end and merge them into one
        keep = [d for d in range(a.ndim) if d not in axes]
        b = np.transpose(a, keep + list(axes)).reshape([a.shape[d] for d in keep] + [-1])
        out = _lse_axis(b, -1)
        if keepdims:
            out = np.expand_dims(out, tuple(sorted(axes)))
        return out
    out = _lse_axis(a, axes[0])
    return np.expand_dims(out, axes[0]) if keepdims else out


def _normalize_axes(axis, ndim: int) -> tuple[int, ...]:
    items = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, (int, np.integer)):
            raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for an array with {ndim} dimension(s)")
        axes.append(int(ax) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(axes)


def _lse_flat(a: np.ndarray):
    """LSE of a non-empty 1-D array, as a scalar of its dtype; chunked to stay in cache."""
    k = int(np.argmax(a))  # the first NaN if there is one, else the first maximum
    m = a[k]
    if not np.isfinite(m):  # NaN, +inf, or every entry is -inf: the answer is m itself
        return m
    n = a.size
    if n == 1:
        return m
    buf = np.empty(min(n, CHUNK), dtype=a.dtype)
    partials = []
    with np.errstate(under="ignore"):
        for start in range(0, n, CHUNK):
            stop = min(start + CHUNK, n)
            b = buf[: stop - start]
            np.subtract(a[start:stop], m, out=b)
            np.exp(b, out=b)
            if start <= k < stop:
                b[k - start] = 0  # exp(x_k - m) = 1 goes in through log1p, not the sum
            partials.append(b.sum())
    total = partials[0] if len(partials) == 1 else np.sum(np.array(partials, dtype=a.dtype))
    return m + np.log1p(total)


def _lse_axis(a: np.ndarray, axis: int) -> np.ndarray:
    """LSE along one axis (non-empty) of an array with ndim >= 1."""
    k = np.argmax(a, axis=axis, keepdims=True)
    m = np.take_along_axis(a, k, axis=axis)
    finite = np.isfinite(m)
    all_finite = bool(finite.all())
    shift = m if all_finite else np.where(finite, m, 0).astype(a.dtype)
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        buf = np.subtract(a, shift)  # the one temporary, reused in place below
        np.exp(buf, out=buf)
        np.put_along_axis(buf, k, 0, axis=axis)
        s = np.sum(buf, axis=axis, keepdims=True)
        np.log1p(s, out=s)
        s += m
    if not all_finite:
        s[~finite] = m[~finite]
    out = np.squeeze(s, axis=axis)
    return out[()] if out.ndim == 0 else out


def lse_gap(a, b):
    """``LSE(a, b) - max(a, b) = log(1 + exp(-|a - b|))``, in ``(0, log 2]`` (chapter 4)."""
    d = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    return np.log1p(np.exp(-d))


def _check_lam(lam) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.integer, np.floating)):
        raise TypeError(f"lambda must be a real number, got {lam!r}")
    lam = float(lam)
    if lam == 0 or not math.isfinite(lam):
        raise ValueError(f"lambda must be finite and non-zero, got {lam!r} "
                         "(at lambda -> 0 the smooth maximum diverges like log(n)/lambda)")
    return lam


def smooth_max(x, lam=1.0, axis=None):
    """``lambda^-1 LSE(lambda x)``: above ``max(x)`` by at most ``log(n)/lambda`` for ``lambda > 0``.

    Chapter 4. For ``lambda < 0`` it is the soft-min of :func:`soft_min` with ``|lambda|``
    (and tends to ``min(x)``); ``lambda = 0`` is rejected.
    """
    lam = _check_lam(lam)
    a = _as_float_array(x)
    return logsumexp(lam * a, axis=axis) / lam


def soft_min(x, lam=1.0, axis=None):
    """``-lambda^-1 LSE(-lambda x)``: below ``min(x)`` by at most ``log(n)/lambda`` (chapter 4)."""
    lam = _check_lam(lam)
    if lam < 0:
        raise ValueError(f"soft_min takes lambda > 0 (got {lam}); smooth_max(x, -lambda) is the same thing")
    return smooth_max(x, -lam, axis=axis)


def exp_overflow_threshold(dtype=np.float64) -> float:
    """The largest ``t`` with ``exp(t)`` finite in ``dtype``: ``log(finfo(dtype).max)`` (chapter 4).

    709.78... for float64 and 88.72... for float32.
    """
    return float(np.log(np.finfo(dtype).max.astype(np.float64)))


def logsumexp_mp(x, dps: int = 60):
    """Reference LSE in mpmath with ``dps`` decimal digits, as an ``mpf`` (chapter 4).

    Every float input is exact in mpmath; ``inf``/``-inf``/``nan`` follow the same
    rules as :func:`logsumexp`.
    """
    vals = [float(v) for v in np.ravel(np.asarray(x, dtype=np.float64))]
    if not vals:
        raise ValueError("logsumexp of an empty array is undefined")
    if any(math.isnan(v) for v in vals):
        return mpmath.mpf("nan")
    if any(v == math.inf for v in vals):
        return mpmath.mpf("inf")
    finite = [v for v in vals if v != -math.inf]
    if not finite:
        return mpmath.mpf("-inf")
    with mpmath.workdps(dps):
        m = max(finite)
        s = mpmath.fsum(mpmath.exp(mpmath.mpf(v) - m) for v in finite)
        return +(m + mpmath.log(s))


def ulp_error(approx, exact, dtype=np.float64) -> float:
    """``|approx - exact|`` in units in the last place of ``exact`` rounded to ``dtype`` (chapter 4).

    Infinite or NaN answers count as 0 if they match exactly and ``inf`` otherwise.
    """
    a = float(approx)
    if mpmath.isnan(exact) or mpmath.isinf(exact):
        same = (math.isnan(a) and mpmath.isnan(exact)) or (a == float(exact))
        return 0.0 if same else math.inf
    ref = np.asarray(float(exact), dtype=dtype)
    if not np.isfinite(ref):
        return 0.0 if a == float(ref) else math.inf
    ulp = float(np.spacing(np.abs(ref)))
    with mpmath.workdps(60):
        return float(abs(mpmath.mpf(a) - exact) / ulp)
