"""A memory and process budget for each jail of the grader (graded exercises, all chapters).

``prlimit`` limits are per process: a jail of 8 forked processes may hold 8 times the
address-space limit, and the kernel memory a jail makes the host spend (the inodes of
its in-memory files, its page tables) is bounded by nothing. :class:`Group` gives one
jail a *memory* cgroup (everything its processes and files are charged: anonymous
memory, in-memory files, kernel memory) and a *pids* cgroup (every process and thread),
made inside the grader's own groups (never beside them: an outer limit on the grader
still bounds its jails), joined by the jail's first process before it runs anything
(:meth:`Group.join`), and emptied (every process in it killed) and removed when the jail
ends (:meth:`Group.close`); the empty groups a killed grader left behind are removed by the
next one (:func:`_sweep`).

Both layouts are found at run time (:func:`locate`), from ``/proc/self/mountinfo`` and
``/proc/self/cgroup``: cgroup v1 (a hierarchy per controller: ``memory.limit_in_bytes``,
``pids.max``) and v2 (one hierarchy: ``memory.max``, ``pids.max``; the grader's group must
delegate both controllers to its children, and since a v2 group with processes of its own
cannot, the batch grader alone in its group moves itself into a leaf ``softmaxbook-grader``
first: :func:`enter_leaf`).
Where no group can be made (not root and nothing delegated, no such controller, not Linux),
:func:`status` says why and the jail keeps only its per-process limits.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PREFIX = "softmaxbook-jail-"
LEAF = "softmaxbook-grader"      # v2: where a grader alone in its group moves itself
CONTROLLERS = ("memory", "pids")
EMPTY_GRACE = 5.0                 # seconds to wait for a killed group to empty
STALE_SECONDS = 300.0             # an empty jail group this old was left by a grader that was killed


@dataclass(frozen=True)
class Hierarchy:
    """Where one controller's groups are made: ``group`` is the grader's own group (v1) or
    the group whose children may use the controller (v2)."""
    controller: str
    group: Path
    v2: bool


# --------------------------------------------------------------------------- finding the grader's groups

def _mounts(text: str) -> list[tuple[str, str, str, set]]:
    """``(root, mount point, file system type, super options)`` of each cgroup mount in a
    ``/proc/self/mountinfo`` text."""
    out = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if sep and len(fields) >= 5 and len(rest) >= 3 and rest[0] in ("cgroup", "cgroup2"):
            out.append((_unescape(fields[3]), _unescape(fields[4]), rest[0], set(rest[2].split(","))))
    return out


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (``\\040``)."""
    for code in ("\\040", "\\011", "\\012", "\\134"):
        field = field.replace(code, chr(int(code[1:], 8)))
    return field


def _memberships(text: str) -> dict[str, str]:
    """``{controller: path}`` from a ``/proc/self/cgroup`` text (``""`` is the v2 hierarchy)."""
    out = {}
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            for name in (parts[1].split(",") if parts[1] else [""]):
                out[name] = parts[2]
    return out


def _join(mountpoint: str, root: str, path: str) -> Path:
    rel = path[len(root):] if root != "/" and (path == root or path.startswith(root + "/")) else path
    return Path(mountpoint) / rel.lstrip("/")


def locate(mountinfo: str, cgroup: str) -> tuple[dict[str, Hierarchy], str]:
    """The hierarchies of :data:`CONTROLLERS` for the process whose ``/proc/self/mountinfo``
    and ``/proc/self/cgroup`` are given, or ``({}, why not)``."""
    mounts, member = _mounts(mountinfo), _memberships(cgroup)
    found, missing = {}, []
    for ctl in CONTROLLERS:
        v1 = next(((root, mp) for root, mp, fs, opts in mounts if fs == "cgroup" and ctl in opts), None)
        v2 = next(((root, mp) for root, mp, fs, _ in mounts if fs == "cgroup2"), None)
        if v1 and ctl in member:
            found[ctl] = Hierarchy(ctl, _join(v1[1], v1[0], member[ctl]), False)
        elif v2 and "" in member:
            group = _join(v2[1], v2[0], member[""])
            if group.name == LEAF:      # the grader moved itself there (:func:`enter_leaf`): jails go beside it
                group = group.parent
            if ctl in _words(group / "cgroup.controllers"):
                found[ctl] = Hierarchy(ctl, group, True)
            else:
                missing.append(f"the {ctl} controller is not enabled for {group} (cgroup v2)")
        else:
            missing.append(f"no {ctl} cgroup is mounted")
    return (found, "") if not missing else ({}, "; ".join(missing))


def _words(path: Path) -> set[str]:
    try:
        return set(path.read_text().split())
    except OSError:
        return set()


def _delegate_v2(group: Path) -> str:
    """Let ``group``'s children use the memory and pids controllers (cgroup v2); ``""`` when
    done, else why not (a group with processes of its own cannot: see :func:`enter_leaf`)."""
    wanted = set(CONTROLLERS) - _words(group / "cgroup.subtree_control")
    if not wanted:
        return ""
    try:
        _write(group / "cgroup.subtree_control", " ".join(f"+{c}" for c in sorted(wanted)))
        return ""
    except OSError as exc:
        if exc.errno == errno.EBUSY:
            return (f"the grader's cgroup {group} holds processes, so its children cannot have a memory "
                    "budget (cgroup v2); start the grader alone in a group, e.g. systemd-run --user --scope "
                    "-p Delegate=yes python -m softmaxbook grade ...")
        return f"cannot delegate {', '.join(sorted(wanted))} in {group} ({exc.strerror})"


def enter_leaf() -> None:
    """The batch grader's first step (cgroup v2 only): alone in a group whose children may not
    yet use memory and pids, move into a leaf ``softmaxbook-grader`` of it, so that the group
    may let them (a v2 group with processes of its own cannot); the jails' groups are then made
    beside the leaf, still inside the group. Does nothing otherwise (v1, not alone, not
    allowed): :func:`hierarchies` says what is missing. Never called by ``check``."""
    try:
        found, _ = locate(Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text())
    except OSError:
        return
    for group in {h.group for h in found.values() if h.v2}:
        if (set(CONTROLLERS) <= _words(group / "cgroup.subtree_control")
                or _words(group / "cgroup.procs") != {str(os.getpid())}):
            continue
        try:
            (group / LEAF).mkdir(exist_ok=True)
            _write(group / LEAF / "cgroup.procs", "0")
        except OSError:
            pass


@functools.lru_cache(maxsize=1)
def hierarchies() -> tuple[tuple[Hierarchy, ...], str]:
    """This process's hierarchies where jails' groups can be made (probed once, with a trial
    group made and removed), or ``((), why not)``."""
    if not os.path.exists("/proc/self/cgroup"):
        return (), "no cgroups on this system"
    try:
        found, why = locate(Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text())
    except OSError as exc:
        return (), f"cannot read /proc ({exc.strerror})"
    if why:
        return (), why
    for group in {h.group for h in found.values() if h.v2}:
        why = _delegate_v2(group)
        if why:
            return (), why
    found = tuple(found.values())
    for group in {h.group for h in found}:
        _sweep(group)
    try:
        Group(found, memory=64 * 2**20, processes=8).close()
    except OSError as exc:
        where = getattr(exc, "filename", None) or "the grader's cgroup"
        return (), f"cannot make a cgroup in {os.path.dirname(str(where))} ({exc.strerror})"
    return found, ""


def _sweep(group: Path) -> None:
    """Remove the empty jail groups a killed grader left in ``group`` (one that still holds a
    process, or was made in the last :data:`STALE_SECONDS` by a grader still starting its jail,
    is left alone: the kernel refuses to remove a group with processes)."""
    try:
        entries = list(os.scandir(group))
    except OSError:
        return
    now = time.time()
    for entry in entries:
        try:
            if entry.name.startswith(PREFIX) and entry.is_dir() and now - entry.stat().st_mtime > STALE_SECONDS:
                _rmdir(Path(entry.path))
        except OSError:
            continue


# --------------------------------------------------------------------------- one jail's groups

def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class Group:
    """The memory and pids groups of one jail: at most ``memory`` bytes (swap included where the
    kernel counts it) and ``processes`` processes and threads. Raises ``OSError`` (and leaves
    nothing behind) when a group cannot be made."""

    def __init__(self, found, memory: int, processes: int):
        name = PREFIX + secrets.token_hex(6)
        self.dirs = sorted({h.group / name for h in found})
        self.v2 = any(h.v2 for h in found)
        self.memory_dir = next(h.group / name for h in found if h.controller == "memory")
        limits = {"memory": [("memory.max", memory), ("memory.swap.max", 0)] if self.v2 else
                  [("memory.limit_in_bytes", memory), ("memory.memsw.limit_in_bytes", memory)],
                  "pids": [("pids.max", processes)]}
        made = []
        try:
            for d in self.dirs:
                d.mkdir(mode=0o755)
                made.append(d)
            for h in found:
                for k, (fname, value) in enumerate(limits[h.controller]):
                    path = h.group / name / fname
                    if k and not path.exists():
                        continue       # no swap accounting: nothing to limit there
                    _write(path, str(int(value)))
        except OSError:
            for d in made:
                _rmdir(d)
            raise
        self._procs = [os.fsencode(d / "cgroup.procs") for d in self.dirs]

    def join(self) -> None:
        """Move the calling process into the groups (run in the jail's first process, between
        fork and exec: no allocation-heavy work here)."""
        for path in self._procs:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)

    def pids(self) -> set[int]:
        out = set()
        for d in self.dirs:
            try:
                out |= {int(p) for p in (d / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return out

    def peak(self) -> int | None:
        """Most memory the jail held at once (``None`` if the kernel does not say)."""
        name = "memory.peak" if self.v2 else "memory.max_usage_in_bytes"
        try:
            return int((self.memory_dir / name).read_text())
        except (OSError, ValueError):
            return None

    def oom_kills(self) -> int:
        """Processes the kernel killed because the jail ran out of its memory budget."""
        name = "memory.events" if self.v2 else "memory.oom_control"
        try:
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def close(self) -> None:
        """Kill every process left in the groups, wait until they are gone, remove the groups."""
        end = time.monotonic() + EMPTY_GRACE
        for d in self.dirs:
            if self.v2 and (d / "cgroup.kill").exists():   # v2 (Linux 5.14+): the whole group at once
                try:
                    _write(d / "cgroup.kill", "1")
                except OSError:
                    pass
        while True:
            left = self.pids()
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if not left or time.monotonic() >= end:
                break
            time.sleep(0.01)
        for d in self.dirs:
            while not _rmdir(d) and time.monotonic() < end:   # EBUSY until the last one is reaped
                time.sleep(0.01)


def _rmdir(d: Path) -> bool:
    try:
        os.rmdir(d)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False
