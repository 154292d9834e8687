"""Run an untrusted command in a bubblewrap jail with hard limits (graded exercises, all chapters).

The batch grader runs every submitted notebook through :func:`run`, and function answers
are re-run through it too (:func:`start`: the same jail, read by the caller). The command gets

- new PID, network, IPC, UTS and mount namespaces (``bwrap``, Debian package
  ``bubblewrap``; the command is the namespace's init, so signals from inside cannot kill
  it and no other process of its uid holds its stdout): it sees only its own processes in
  ``/proc``, only a loopback network,
  and a file system made of the system directories Python needs, Python's own prefix and
  virtual environment, the read-only paths the caller names and one private writable
  scratch directory -- not the instructor's working directory, gradebook, state file or
  other submissions;
- a non-root user: run as root, ``bwrap`` keeps the host's user namespace and the command
  drops to a random unprivileged uid with ``setpriv`` (no capabilities, no new privileges),
  because ``RLIMIT_NPROC`` is not enforced for uid 0, and a root-mapped user namespace would
  still count as uid 0; run as another user, ``bwrap --unshare-user`` keeps that uid;
- only the devices a program needs (``/dev/null``, ``zero``, ``full``, ``random``, ``urandom``):
  no pty (the host's pty pool is shared by every namespace), no ``/dev/shm``; the root of
  its file system is read-only;
- a budget for the whole jail where a cgroup can be made (:mod:`.cgroups`): memory (its
  processes, its in-memory files and the kernel memory they cost) and processes; each
  in-memory folder capped in bytes and, run as root, in files (``nr_inodes``);
- resource limits (``prlimit``): CPU seconds, address space, number of processes, file size,
  no core dumps; and an output cap read with a hard byte limit;
- a new session (process group) and ``--die-with-parent``; at the deadline the whole group is
  killed with SIGKILL, which kills the namespace's init and with it every process inside,
  double-forked and ``setsid``-ed ones included; then every process left in its cgroups.
  Every wait has a deadline.

A learner's own checks of function answers share one jail per session (:mod:`.warm`): its
first process, undumpable and never running learner code, forks a child per request and kills
every other process of the jail before it answers.

``sandbox=False`` runs the same command with the same limits, deadline and group kill but
without ``bwrap`` (trusted submissions only: without a cgroup, a process that leaves the
group survives).

Its command line (``bwrap``, ``prlimit``, the environment) is built in :mod:`.bwrap`, its first
process watched, killed and reaped in :mod:`.processes`, its budget made in :mod:`.cgroups`.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from . import bwrap, cgroups, processes
from .processes import REAP_GRACE, STDERR_TAIL, Outcome  # noqa: F401 - part of this module's interface

INSTALL_HINT = ("Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap). "
                "It needs Linux with user namespaces or root; macOS and Windows have no equivalent.")


@dataclass
class Limits:
    """Resource limits of one jailed command: ``cpu_seconds``, ``address_space`` and
    ``file_size`` per process; ``memory`` and ``processes`` (processes and threads) for the
    whole jail where a cgroup can be made (:mod:`.cgroups`; else ``processes`` counts every
    process and thread of the jail's user, and ``memory`` is not enforced); ``output_bytes``
    of stdout; ``scratch_bytes`` and ``inodes`` (files, run as root) of each in-memory folder."""
    cpu_seconds: int = 600
    address_space: int = 4 * 2**30
    processes: int = 256
    file_size: int = 64 * 2**20
    output_bytes: int = 8 * 2**20
    scratch_bytes: int = 256 * 2**20   # size of each in-memory file system (/tmp, a private scratch)
    memory: int = 2 * 2**30
    inodes: int = 16_384


# --------------------------------------------------------------------------- availability

def _probe() -> str:
    """Empty string when a jailed Python runs here; otherwise why not."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux (this is {sys.platform})."
    missing = [t for t in ("bwrap", "prlimit") + (("setpriv", "mount") if os.geteuid() == 0 else ()) if not shutil.which(t)]
    if missing:
        return f"{' and '.join(missing)} not found on PATH."
    try:
        out = run([sys.executable, "-c", "import os; print(os.getpid())"], timeout=20,
                  limits=Limits(cpu_seconds=10, processes=64, output_bytes=1000))
    except OSError as exc:
        return f"bwrap could not be started ({exc})."
    if out.returncode != 0 or out.stdout.strip() != b"1":
        detail = out.stderr.decode("utf-8", "replace").strip()[-300:] or out.killed_reason or f"exit {out.returncode}"
        return f"bwrap is installed but cannot create a sandbox here ({detail})."
    return ""


@functools.lru_cache(maxsize=1)
def _probe_cached() -> str:
    return _probe()


def available() -> bool:
    """True when bubblewrap is present and a jailed Python runs here (probed once)."""
    return _probe_cached() == ""


def why_unavailable() -> str:
    """A sentence saying why the sandbox is unavailable and how to install it ("" if it is)."""
    reason = _probe_cached()
    return f"No sandbox: {reason} {INSTALL_HINT}" if reason else ""


def budget_status(limits: Limits) -> str:
    """A sentence for the instructor: the budget each jail of ``limits`` gets here, or that
    there is none, why, and what remains instead."""
    found, why = cgroups.hierarchies()
    files = (f"at most {limits.inodes} files and {_size(limits.scratch_bytes)} in each in-memory folder"
             if os.geteuid() == 0 else f"{_size(limits.scratch_bytes)} in each in-memory folder (not run as "
             "root, so its number of files is not capped)")
    if found:
        kind = "v2" if any(h.v2 for h in found) else "v1"
        return (f"Each jail has a memory and process budget of its own: {_size(limits.memory)} (its processes, "
                f"in-memory files and kernel memory) and {limits.processes} processes (cgroup {kind}, inside "
                f"{found[0].group}); {files}.")
    return (f"No memory and process budget per jail: {why}. Falling back to the per-process limits: "
            f"{_size(limits.address_space)} of address space per process and {limits.processes} processes of "
            f"the jail's user, so one jail may hold several times {_size(limits.address_space)}; {files}.")


def _size(n: int) -> str:
    return f"{n / 2**30:g} GiB" if n >= 2**30 else f"{n / 2**20:g} MiB"


# --------------------------------------------------------------------------- running

def run(argv: list[str], *, stdin: bytes = b"", timeout: float, limits: Limits, binds_ro=(),
        scratch: Path | None = None, sandbox: bool = True, env: dict | None = None, binds_rw=(),
        hide=()) -> Outcome:
    """Run ``argv`` jailed (see the module docstring); return its :class:`Outcome`, never hang.

    The command's working directory is ``scratch``, a host directory mounted read-write at the
    same path inside (run as root, it is given to the jail's uid); when ``None``, a private
    in-memory one of ``limits.scratch_bytes`` that nothing outside sees (without the sandbox: a
    temporary directory, removed afterwards). ``binds_ro`` are extra read-only paths and
    ``binds_rw`` extra writable ones (files or folders, given to the jail's uid like the
    scratch), visible at the same paths. ``env`` is added to a minimal environment (nothing of
    the caller's leaks in). ``hide`` lists folders inside the bound ones that the jail sees
    empty (with the sandbox only).
    """
    jailed = start(argv, stdin=stdin, limits=limits, binds_ro=binds_ro, scratch=scratch, sandbox=sandbox, env=env,
                   binds_rw=binds_rw, hide=hide)
    try:
        out = processes.supervise(jailed.proc, timeout, limits.output_bytes)
    finally:
        out_of_memory, peak = jailed.close()
    if jailed.group:
        out.memory_peak = peak
        if out_of_memory and not out.killed_reason:
            out.killed_reason = f"out of its memory budget of {_size(limits.memory)}"
    return out


@dataclass
class Jailed:
    """A started jail (:func:`start`): its first process, its cgroups and its scratch folder."""
    proc: subprocess.Popen
    group: object | None
    scratch: Path | None     # removed by :meth:`close` (a private one only)

    def close(self) -> tuple[bool, int | None]:
        """Kill every process of the jail, reap the first, remove its cgroups and private
        scratch: ``(killed for lack of memory, peak memory)`` (``False, None`` without a cgroup)."""
        out_of_memory, peak = False, None
        try:
            processes.kill(self.proc)
        finally:
            if self.group:
                out_of_memory, peak = self.group.oom_kills(), self.group.peak()
                self.group.close()
            if self.scratch:
                shutil.rmtree(self.scratch, ignore_errors=True)
        return out_of_memory, peak


def start(argv: list[str], *, stdin=subprocess.PIPE, limits: Limits, binds_ro=(), scratch: Path | None = None,
          sandbox: bool = True, env: dict | None = None, binds_rw=(), hide=()) -> Jailed:
    """Start ``argv`` jailed as :func:`run` does, without waiting for it: stdout and stderr are
    pipes, stdin ``bytes`` or a pipe; the caller reads with its own deadline and must
    :meth:`Jailed.close` it (which kills everything in it)."""
    own_scratch = scratch is None
    scratch = Path(tempfile.mkdtemp(prefix="softmaxbook-jail-")) if own_scratch else Path(scratch).resolve()
    try:
        uid = None
        if sandbox and os.geteuid() == 0:
            uid = 2_000_000 + secrets.randbelow(1_000_000)
            for p in ([] if own_scratch else [scratch]) + [Path(b) for b in binds_rw]:
                os.chown(p, uid, uid)
        nproc = limits.processes if uid is not None else limits.processes + bwrap.user_tasks(os.getuid())
        if shutil.which("prlimit"):
            full, child_limits = bwrap.prlimit_argv(limits, nproc), None
        else:  # no util-linux (macOS, a learner's machine): set the limits in the child
            full, child_limits = [], limits
        if sandbox:
            full += bwrap.bwrap_argv(binds_ro, scratch, uid, own_scratch, limits.scratch_bytes, binds_rw, hide,
                                     limits.inodes)
        full += [str(a) for a in argv]
        group = _group(limits)
        preexec = functools.partial(_child_setup, group, child_limits, nproc) if group or child_limits else None
        try:
            proc = processes.spawn(full, stdin, scratch, bwrap.environment(scratch, env), preexec)
        except BaseException:
            if group:
                group.close()
            raise
    except BaseException:
        if own_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
        raise
    return Jailed(proc, group, scratch if own_scratch else None)


def _group(limits: Limits):
    """The jail's memory and pids cgroups (:class:`.cgroups.Group`), or ``None`` where none
    can be made (the reason is in :func:`budget_status`)."""
    found, _ = cgroups.hierarchies()
    if not found:
        return None
    try:
        return cgroups.Group(found, limits.memory, limits.processes)
    except OSError:
        return None


def _child_setup(group, limits: Limits | None, nproc: int) -> None:
    """In the jail's first process, before it runs anything: join the jail's cgroups, and set the
    limits where ``prlimit`` is missing."""
    if group is not None:
        group.join()
    if limits is not None:
        _set_limits(limits, nproc)


def _set_limits(limits: Limits, nproc: int) -> None:
    import resource
    for name, value in (("RLIMIT_CPU", limits.cpu_seconds), ("RLIMIT_AS", limits.address_space),
                        ("RLIMIT_NPROC", nproc), ("RLIMIT_FSIZE", limits.file_size), ("RLIMIT_CORE", 0)):
        if hasattr(resource, name):
            try:
                resource.setrlimit(getattr(resource, name), (int(value), int(value)))
            except (ValueError, OSError):
                pass   # e.g. macOS refuses RLIMIT_AS below the current use
