"""The input checks of the topic modules: one rule, and one message, per kind of argument.

The topic modules (``expfamily``, ``hessian``, ``lse`` and the modules built on them) and
``figures`` check their vectors, lambdas, positive numbers and counts here, so the same
mistake gets the same message whichever function it is passed to; what belongs to one
topic (probability vectors in ``expfamily``, bit strings in ``coding``, the matrices of
``regression``) is checked there, on top of :func:`real_array` or :func:`vector`. A bad
argument raises ``TypeError`` (not numbers at all) or ``ValueError`` (numbers, but not
allowed ones), naming the argument and showing, shortened, what was received; never a
numpy traceback.

The rules:

* **Arrays of numbers** (:func:`real_array`): ints and floats, as a list, tuple or numpy
  array. Strings, bytes, ``None``, booleans, complex numbers and ragged lists are a
  ``TypeError``. Booleans are refused although numpy would read them as 0 and 1:
  ``[True, False]`` passed as scores is a mistake, not a vector.
* **Vectors** (:func:`vector`): a non-empty 1-D array of finite numbers, as float64.
  Parameters say where a module allows more: ``batch`` (an array whose last axis holds
  the vectors, e.g. rows of logits), ``minus_inf`` (``-inf`` entries, the score of an
  impossible class, as in streaming LogSumExp) and ``empty``.
* **lambda** (:func:`lam`, :func:`lams`), the inverse temperature: a real number (int,
  float, numpy scalar; not a bool or a string), finite and ``> 0``. So ``0``, negative
  numbers, ``nan`` and ``inf`` are a ``ValueError``; ``True``, ``"2"`` and ``None`` a
  ``TypeError``. The one exception is explicit: ``lse.smooth_max`` takes ``negative=True``,
  since chapter 4 reads ``lambda < 0`` as the soft minimum (``lambda = 0`` still fails).
* **Other positive numbers** (:func:`positive_number`; steps, scales) follow lambda's
  rule under their own name; **counts** (:func:`positive_int`) are ints ``>= 1``
  (``2.0``, ``True`` and ``"3"`` are a ``TypeError``).

Messages are marked for translation (:mod:`softmaxbook.i18n`): a learner reading the
Chinese edition gets them in Chinese once the catalogue has them (the argument's name and
the value shown stay as Python writes them).
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np

from softmaxbook.i18n import _

__all__ = ["real_array", "vector", "lam", "lams", "positive_number", "positive_int"]

_short = reprlib.Repr()
_short.maxstring, _short.maxother, _short.maxlist, _short.maxtuple, _short.maxlevel = 40, 40, 6, 6, 3


def _shown(value) -> str:
    """``value`` as a message shows it: a short repr (long lists and strings are cut with
    ``...``), with the type when it is not a plain int, float, list, tuple or array."""
    if isinstance(value, np.ndarray):
        if value.size > 6:
            return f"an array of shape {value.shape} and dtype {value.dtype}"
        return repr(value.tolist())
    text = _short.repr(value.item() if isinstance(value, np.generic) else value)
    if isinstance(value, (str, bytes)):
        return f"the {'string' if isinstance(value, str) else 'bytes'} {text}"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number, list, tuple)):
        text += f" ({type(value).__name__})"
    return text


def _type_error(name: str, value) -> TypeError:
    return TypeError(str(_("{name} must be real numbers (a list or array of ints and floats), got {got}")
                         .format(name=name, got=_shown(value))))


def real_array(x, name: str, *, keep_float_dtype: bool = False) -> np.ndarray:
    """``x`` as a float array of any shape, or ``TypeError`` if it does not hold real numbers.

    Ints become float64; floats become float64 too unless ``keep_float_dtype`` (then
    float16/32/64/longdouble keep their precision, as :func:`softmaxbook.lse.logsumexp`
    needs). NaN and infinities pass: whether they are allowed is the caller's rule.
    """
    if x is None or isinstance(x, (str, bytes, bool, np.bool_)):
        raise _type_error(name, x)
    try:
        a = np.asarray(x)
    except (TypeError, ValueError):  # ragged lists, objects numpy cannot hold
        raise _type_error(name, x) from None
    if a.dtype.kind == "f":
        return a if keep_float_dtype else a.astype(np.float64, copy=False)
    if a.dtype.kind in "iu":
        return a.astype(np.float64)
    if a.dtype.kind == "O":  # e.g. Fractions or sympy numbers, or junk such as [1, None]
        if any(v is None or isinstance(v, (str, bytes, bool, np.bool_)) for v in a.flat):
            raise _type_error(name, x)
        try:
            return a.astype(np.float64)
        except (TypeError, ValueError, OverflowError):
            raise _type_error(name, x) from None
    raise _type_error(name, x)  # bool, complex, strings, dates, ...


def vector(x, name: str = "x", *, batch: bool = False, minus_inf: bool = False,
           empty: bool = False) -> np.ndarray:
    """``x`` as a float64 vector of finite numbers, at least one of them.

    ``batch=True`` accepts any array of dimension >= 1 whose last axis holds the vectors
    (e.g. an ``(n, C)`` array of logits); ``minus_inf=True`` accepts ``-inf`` entries
    (``NaN`` and ``+inf`` still fail); ``empty=True`` accepts a vector of length 0.
    """
    a = real_array(x, name)
    if a.ndim == 0:
        raise ValueError(str(_("{name} must be a vector of numbers, got the single number {got}")
                             .format(name=name, got=_shown(x))))
    if a.ndim != 1 and not batch:
        raise ValueError(str(_("{name} must be one vector (1-D), got an array of shape {shape}")
                             .format(name=name, shape=a.shape)))
    if a.shape[-1] == 0 and not empty:
        raise ValueError(str(_("{name} is an empty vector: it needs at least one entry").format(name=name)))
    bad = np.isnan(a) | (a == np.inf) if minus_inf else ~np.isfinite(a)
    if bad.any():
        where = np.unravel_index(int(np.argmax(bad)), a.shape)
        at = f"{name}[{', '.join(str(int(i)) for i in where)}] = {a[where]}"
        if minus_inf:
            msg = _("{name} must hold numbers below +inf, not NaN (-inf is allowed): {at}")
        else:
            msg = _("{name} must hold finite numbers, not NaN or infinite: {at}")
        raise ValueError(str(msg.format(name=name, at=at)))
    return a


def _real_number(value, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(str(_("{name} must be a real number, got {got}").format(name=name, got=_shown(value))))
    try:
        return float(value)
    except OverflowError:  # an int beyond the floats: infinite for our purposes
        return math.inf if value > 0 else -math.inf


def positive_number(value, name: str) -> float:
    """``value`` as a float after checking that it is a finite real number ``> 0``."""
    v = _real_number(value, name)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(str(_("{name} must be a positive, finite number, got {got}")
                             .format(name=name, got=_shown(value))))
    return v


def lam(value, name: str = "lambda", *, negative: bool = False) -> float:
    """The inverse temperature lambda as a float: finite and ``> 0`` (see the module's rules).

    ``negative=True`` also accepts finite ``lambda < 0`` (only ``lse.smooth_max``, where it
    is the soft minimum); 0 is refused either way.
    """
    if not negative:
        return positive_number(value, name)
    v = _real_number(value, name)
    if not (math.isfinite(v) and v != 0):
        raise ValueError(str(_("{name} must be a finite number other than 0, got {got}")
                             .format(name=name, got=_shown(value))))
    return v


def lams(values, name: str = "lambdas") -> np.ndarray:
    """Several values of lambda (a number or a list/array of them) as a 1-D float64 array,
    each finite and ``> 0``; the message names the first bad one."""
    a = np.atleast_1d(real_array(values, name))
    if a.ndim != 1 or a.size == 0:
        raise ValueError(str(_("{name} must be a non-empty vector of values of lambda, got an array of shape {shape}")
                             .format(name=name, shape=a.shape)))
    bad = ~(np.isfinite(a) & (a > 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(str(_("{name} must be positive, finite numbers, got {name}[{i}] = {got}")
                             .format(name=name, i=i, got=a[i])))
    return a


def positive_int(value, name: str) -> int:
    """``value`` as an int after checking that it is an integer ``>= 1`` (not a bool or a float)."""
    msg = _("{name} must be a positive integer, got {got}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(str(msg.format(name=name, got=_shown(value))))
    if value < 1:
        raise ValueError(str(msg.format(name=name, got=_shown(value))))
    return int(value)
