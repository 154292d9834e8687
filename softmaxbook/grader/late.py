"""Due dates and late penalties (graded exercises, all chapters): ``--due`` and ``--late-penalty``.

The due date is ISO 8601 *with* its time zone (``2026-03-01T23:59+01:00``, ``...Z``): a naive
time would be read in the grader machine's zone, which is how a class gets graded an hour off,
so it is refused (:func:`parse_due`). A learner's submission time comes from the roster's
``submitted_at`` column (ISO 8601 with zone as well), their extension from its
``extension_hours`` column (:mod:`.lms`). A Canvas "Download Submissions" archive marks a late
file with ``LATE`` in its name but carries no time: the grader then knows *that* it is late,
not *how* late, applies no penalty and says so (:func:`lateness`).

The late policy (:func:`parse_policy`) is a comma-separated list of parts:

- ``10%/day`` (or ``/hour``): that share of the points per *started* day (hour) late;
- ``max=50%``: at most this share in all (only with a rate);
- ``grace=15m``: no penalty while at most this late (``m``, ``h`` or ``d``);
- ``zero-after=2d``: no points at all when later than this.

``10%/day,max=50%`` takes 10 % at 1 minute late, 20 % at 25 hours, never more than 50 %;
``zero-after=2h`` takes nothing up to 2 hours late and everything after. The penalty is a
fraction of the row's points (:func:`.gradebook.total` applies it) and the row's ``late``
field says how late, how much and why in a plain sentence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime

UNITS = {"m": 1 / 60, "min": 1 / 60, "h": 1.0, "hour": 1.0, "d": 24.0, "day": 24.0}
MAX_EXTENSION_HOURS = 24 * 366


@dataclass(frozen=True)
class Policy:
    """A late policy: ``rate`` (fraction per started ``per`` hours), its cap ``cap``, the
    ``grace`` (hours without penalty) and ``zero_after`` (hours after which nothing counts)."""
    rate: float = 0.0
    per: float = 24.0
    cap: float = 1.0
    grace: float = 0.0
    zero_after: float | None = None


def parse_time(text: str, what: str = "time") -> datetime:
    """An ISO 8601 date and time with its zone; ``ValueError`` saying what is wrong."""
    text = str(text).strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an ISO 8601 date and time (e.g. 2026-03-01T23:59+01:00)") from None
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} {text!r} has no time zone: add one, e.g. {text}+01:00 or {text}Z (UTC); "
                         "a time without a zone would be read in this machine's zone")
    return when


def parse_due(text: str) -> datetime:
    """``--due``: an ISO 8601 date and time with its zone."""
    return parse_time(text, "--due")


def _percent(part: str, text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)%", text)
    if not m or not 0 < float(m[1]) <= 100:
        raise ValueError(f"--late-penalty: {part!r}: {text!r} is not a percentage above 0 and at most 100 (e.g. 10%)")
    return float(m[1]) / 100


def _hours(part: str, text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(m|min|h|hour|d|day)", text)
    if not m or not float(m[1]) > 0:
        raise ValueError(f"--late-penalty: {part!r}: {text!r} is not a duration above 0 with a unit m, h or d "
                         "(e.g. 30m, 2h, 1d)")
    return float(m[1]) * UNITS[m[2]]


def parse_policy(text: str) -> Policy:
    """``--late-penalty`` read into a :class:`Policy`; ``ValueError`` naming the bad part."""
    fields, seen = {}, set()
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise ValueError("--late-penalty is empty (e.g. 10%/day,max=50% or zero-after=2h)")
    for part in parts:
        name = "rate" if "/" in part and "=" not in part else part.partition("=")[0].strip()
        if name in seen:
            raise ValueError(f"--late-penalty: {part!r}: {'a rate' if name == 'rate' else name} is given twice")
        seen.add(name)
        value = part.partition("=")[2].strip()
        if name == "rate":
            amount, _, unit = part.partition("/")
            if unit.strip() not in ("day", "hour", "d", "h"):
                raise ValueError(f"--late-penalty: {part!r}: the rate is per day or per hour (e.g. 10%/day)")
            fields["rate"], fields["per"] = _percent(part, amount.strip()), UNITS[unit.strip()]
        elif name == "max":
            fields["cap"] = _percent(part, value)
        elif name == "grace":
            fields["grace"] = _hours(part, value)
        elif name == "zero-after":
            fields["zero_after"] = _hours(part, value)
        else:
            raise ValueError(f"--late-penalty: unknown part {part!r}; the parts are N%/day (or /hour), max=N%, "
                             "grace=DURATION, zero-after=DURATION")
    if "rate" not in fields and "zero_after" not in fields:
        raise ValueError(f"--late-penalty {text!r} takes nothing off: give a rate (10%/day) or zero-after=DURATION")
    if "cap" in fields and "rate" not in fields:
        raise ValueError("--late-penalty: max=... caps a rate (N%/day): there is none")
    if "zero_after" in fields and fields["zero_after"] <= fields.get("grace", 0.0):
        raise ValueError("--late-penalty: zero-after must be longer than grace")
    return Policy(**fields)


def parse_extension(text: str) -> float:
    """A roster's ``extension_hours``: hours, 0 when empty; ``ValueError`` otherwise."""
    text = str(text or "").strip()
    if not text:
        return 0.0
    try:
        hours = float(text)
    except ValueError:
        raise ValueError(f"extension_hours {text!r} is not a number of hours") from None
    if not math.isfinite(hours) or not 0 <= hours <= MAX_EXTENSION_HOURS:
        raise ValueError(f"extension_hours {text!r} is not between 0 and {MAX_EXTENSION_HOURS}")
    return hours


def _hours_text(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h" if hours >= 1 else f"{hours * 60:.0f} min"


def penalty(hours: float, policy: Policy | None) -> tuple[float, str]:
    """``(fraction taken off, why)`` for a submission ``hours`` late (> 0) under ``policy``."""
    if policy is None:
        return 0.0, "no late policy was given: no penalty"
    if hours <= policy.grace:
        return 0.0, f"within the grace period of {_hours_text(policy.grace)}: no penalty"
    if policy.zero_after is not None and hours > policy.zero_after:
        return 1.0, f"more than {_hours_text(policy.zero_after)} late: no points"
    if not policy.rate:
        return 0.0, f"at most {_hours_text(policy.zero_after)} late: no penalty"
    started = math.ceil(hours / policy.per - 1e-9)
    unit = "day" if policy.per == 24 else "hour"
    taken = min(policy.rate * started, policy.cap)
    why = f"{policy.rate:.0%} per started {unit} × {started}" + (" (capped)" if taken < policy.rate * started else "")
    return taken, why


def lateness(due: datetime | None, policy: Policy | None, submitted_at: datetime | None,
             marked_late: bool | None = None, extension_hours: float = 0.0) -> tuple[dict | None, str]:
    """``(row's late field or None, note)`` of one submission: late when submitted after ``due``
    plus the learner's extension. Without a submission time, a file Canvas ``marked_late``
    (``True``) gets no penalty and a note saying why (the size of a penalty needs the time), one
    Canvas did not mark (``False``) is on time, and any other (``None``) is taken as on time
    with a note."""
    if due is None:
        return None, ""
    if submitted_at is None:
        if marked_late:
            return None, ("Canvas marks these late but its file names carry no time: no late penalty applied "
                          "(give their submitted_at in the roster)")
        return None, "" if marked_late is False else "no submission time known (no submitted_at in the roster): " \
            "taken as on time"
    hours = (submitted_at - due).total_seconds() / 3600 - extension_hours
    if hours <= 0:
        return None, ""
    taken, why = penalty(hours, policy)
    after = f" after an extension of {extension_hours:g} h" if extension_hours else ""
    reason = f"submitted {_hours_text(hours)} late{after}; {why}" + (f": {taken:.0%} of the points taken off"
                                                                    if 0 < taken < 1 else "")
    return {"hours": round(hours, 3), "penalty": round(taken, 6), "reason": reason}, ""
