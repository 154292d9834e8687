"""Run an untrusted command in a bubblewrap jail with hard limits (graded exercises, all chapters).

The batch grader runs every submitted notebook through :func:`run`, and function answers
are re-run through it too. The command gets

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

``sandbox=False`` runs the same command with the same limits, deadline and group kill but
without ``bwrap`` (trusted submissions only: without a cgroup, a process that leaves the
group survives).
"""

from __future__ import annotations

import functools
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import cgroups

INSTALL_HINT = ("Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap). "
                "It needs Linux with user namespaces or root; macOS and Windows have no equivalent.")
STDERR_TAIL = 64 * 1024       # bytes of stderr kept (the last ones)
REAP_GRACE = 5.0              # seconds to wait for a killed process to be reaped
# Files under /etc that programs in the jail need (dynamic linker, time zone, hosts, fonts,
# certificates, Debian's alternatives links); never passwd, shadow or anything private.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "hosts",
             "nsswitch.conf", "fonts", "ssl", "mime.types", "matplotlibrc")
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
DEVICES = ("null", "zero", "full", "random", "urandom")   # no ptmx, no pts, no shm
# Run as root, the jail's first command caps the files of each in-memory folder, then drops to
# the jail's uid ("$1": the cap; then the folders up to "--"; then the command).
REMOUNT = ('n=$1; shift; while [ "$1" != -- ]; do mount -o "remount,nr_inodes=$n" "$1" || exit 125; shift; done; '
           'shift; exec "$@"')


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


@dataclass
class Outcome:
    """What came back: exit status (negative: killed by that signal; ``None``: could not be
    reaped), the first ``output_bytes`` of stdout, the last bytes of stderr, and why it was
    killed (``""`` when it ended by itself)."""
    returncode: int | None
    stdout: bytes
    stderr: bytes
    timed_out: bool
    truncated: bool
    killed_reason: str
    memory_peak: int | None = None     # most memory the jail held at once (with a cgroup)


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


# --------------------------------------------------------------------------- the command line

def _python_dirs() -> list[Path]:
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
            Path(os.path.realpath(sys.executable)).parent.parent}
    return sorted(d for d in dirs if d.is_dir() and not any(str(d).startswith(s + "/") for s in SYSTEM_DIRS))


def _bwrap_argv(binds_ro, scratch: Path, uid: int | None, private: bool, size: int, binds_rw=(), hide=(),
                inodes: int = Limits.inodes) -> list[str]:
    # --as-pid-1: the command itself is the namespace's init, with no bwrap reaper above it. Not
    # root, that reaper would run under the jail's own uid, dumpable, holding the jail's stdout:
    # the learner's code could write the report through /proc/1/fd/1 or rewrite its memory.
    argv = ["bwrap", "--unshare-pid", "--as-pid-1", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--hostname", "jail"]
    if os.geteuid() != 0:
        argv += ["--unshare-user", "--cap-drop", "ALL"]
    for d in SYSTEM_DIRS:
        if os.path.islink(d):
            argv += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            argv += ["--ro-bind", d, d]
    for name in ETC_FILES:
        if os.path.exists(f"/etc/{name}"):
            argv += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    made = {Path("/tmp")}

    def parents(p: Path) -> list[str]:   # traversable parents (bwrap would make them 0700)
        out = []
        for parent in reversed(p.parents[:-1]):
            if parent not in made:
                made.add(parent)
                out += ["--perms", "0555", "--dir", str(parent)]   # nobody writes there, the jail's own uid neither
        return out

    # /tmp and the writable scratch first (the scratch may be under /tmp), then the read-only
    # paths (a read-only copy inside the scratch directory stays read-only).
    argv += ["--perms", "0755", "--dir", "/dev"]
    for name in DEVICES:
        argv += ["--dev-bind", f"/dev/{name}", f"/dev/{name}"]
    argv += ["--symlink", "/proc/self/fd", "/dev/fd"] + [a for k, name in enumerate(("stdin", "stdout", "stderr"))
                                                        for a in ("--symlink", f"/proc/self/fd/{k}", f"/dev/{name}")]
    argv += ["--proc", "/proc", "--perms", "1777", "--size", str(int(size)), "--tmpfs", "/tmp"]
    argv += parents(scratch) + (["--perms", "0777", "--size", str(int(size)), "--tmpfs", str(scratch)] if private
                                else ["--bind", str(scratch), str(scratch)])
    made.add(scratch)
    for d in _python_dirs() + [Path(p) for p in binds_ro]:
        p = Path(os.path.abspath(d))
        argv += parents(p) + ["--ro-bind", str(p), str(p)]
    for d in binds_rw:
        p = Path(os.path.abspath(d))
        argv += parents(p) + ["--bind", str(p), str(p)]
    for h in hide:   # an empty tmpfs over a folder inside a bound one (e.g. an installed package)
        if os.path.isdir(h):
            argv += ["--tmpfs", os.path.abspath(h)]
    argv += ["--remount-ro", "/", "--chdir", str(scratch)]   # the root's own tmpfs: nothing to write there
    if uid is not None:   # root: cap the in-memory folders' files, drop to an unprivileged uid with no capabilities
        argv += ["--", "/bin/sh", "-c", REMOUNT, "jail", str(int(inodes)), "/tmp"] + ([str(scratch)] if private else [])
        argv += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs", "--"]
    else:
        argv += ["--"]
    return argv


def _user_tasks(uid: int) -> int:
    """Processes and threads owned by ``uid`` now (RLIMIT_NPROC counts them all)."""
    n = 0
    if not os.path.isdir("/proc"):
        return 100_000   # no /proc (macOS): cannot count them, so the process limit is left off
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                st = os.stat(f"/proc/{entry.name}")
                if st.st_uid == uid:
                    n += len(os.listdir(f"/proc/{entry.name}/task"))
            except OSError:
                continue
    return n


def _prlimit_argv(limits: Limits, nproc: int) -> list[str]:
    return ["prlimit", f"--cpu={int(limits.cpu_seconds)}", f"--as={int(limits.address_space)}",
            f"--nproc={int(nproc)}", f"--fsize={int(limits.file_size)}", "--core=0", "--"]


def _environment(scratch: Path, env: dict | None) -> dict:
    base = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": "/tmp",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "learner", "LOGNAME": "learner",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(scratch / ".matplotlib"), "JUPYTER_PLATFORM_DIRS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if env:
        base.update({str(k): str(v) for k, v in env.items()})
    return base


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
    own_scratch = scratch is None
    scratch = Path(tempfile.mkdtemp(prefix="softmaxbook-jail-")) if own_scratch else Path(scratch).resolve()
    try:
        uid = None
        if sandbox and os.geteuid() == 0:
            uid = 2_000_000 + secrets.randbelow(1_000_000)
            for p in ([] if own_scratch else [scratch]) + [Path(b) for b in binds_rw]:
                os.chown(p, uid, uid)
        nproc = limits.processes if uid is not None else limits.processes + _user_tasks(os.getuid())
        if shutil.which("prlimit"):
            full, child_limits = _prlimit_argv(limits, nproc), None
        else:  # no util-linux (macOS, a learner's machine): set the limits in the child
            full, child_limits = [], limits
        if sandbox:
            full += _bwrap_argv(binds_ro, scratch, uid, own_scratch, limits.scratch_bytes, binds_rw, hide,
                                limits.inodes)
        full += [str(a) for a in argv]
        group = _group(limits)
        preexec = functools.partial(_child_setup, group, child_limits, nproc) if group or child_limits else None
        try:
            out = _supervise(full, stdin, timeout, limits.output_bytes, scratch, _environment(scratch, env), preexec)
        finally:
            if group:
                out_of_memory, peak = group.oom_kills(), group.peak()
                group.close()
        if group:
            out.memory_peak = peak
            if out_of_memory and not out.killed_reason:
                out.killed_reason = f"out of its memory budget of {_size(limits.memory)}"
        return out
    finally:
        if own_scratch:
            shutil.rmtree(scratch, ignore_errors=True)


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


def _supervise(argv, stdin: bytes, timeout: float, cap: int, cwd: Path, env: dict, preexec=None) -> Outcome:
    deadline = time.monotonic() + timeout
    with tempfile.TemporaryFile() as fin:
        fin.write(stdin)
        fin.seek(0)
        proc = subprocess.Popen(argv, stdin=fin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                                start_new_session=True, close_fds=True, preexec_fn=preexec)
    out, err = bytearray(), bytearray()
    truncated, timed_out, reason = False, False, ""
    sel = selectors.DefaultSelector()
    for f in (proc.stdout, proc.stderr):
        os.set_blocking(f.fileno(), False)
        sel.register(f, selectors.EVENT_READ)
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out, reason = True, f"time limit of {timeout:g} s exceeded"
                break
            for key, _ in sel.select(min(left, 1.0)):
                try:
                    data = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if not data:
                    sel.unregister(key.fileobj)
                    continue
                if key.fileobj is proc.stdout:
                    room = cap - len(out)
                    out += data[:room]
                    if len(data) > room:
                        truncated, reason = True, f"output over {cap} bytes"
                else:
                    err += data
                    del err[:-STDERR_TAIL]
            if truncated:
                break
        # Output closed (or killed): the process itself still gets only what is left of the deadline.
        while not truncated and not timed_out and not _exited(proc.pid):
            if time.monotonic() >= deadline:
                timed_out, reason = True, f"time limit of {timeout:g} s exceeded"
                break
            time.sleep(0.01)
    finally:
        sel.close()
        # Kill the group while the leader is unreaped (so the group id cannot be reused), then reap.
        _killpg(proc.pid)
        returncode = _reap(proc)
        proc.stdout.close()
        proc.stderr.close()
    return Outcome(returncode, bytes(out), bytes(err), timed_out, truncated, reason)


def _exited(pid: int) -> bool:
    """True once ``pid`` has ended (it stays a zombie: not reaped here)."""
    if not hasattr(os, "waitid"):  # macOS: no peeking; the group kill may then miss a reaped leader's group
        try:
            return os.waitpid(pid, os.WNOHANG)[0] != 0
        except ChildProcessError:
            return True
    try:
        return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(proc: subprocess.Popen) -> int | None:
    end = time.monotonic() + REAP_GRACE
    while True:
        code = proc.poll()
        if code is not None or time.monotonic() >= end:
            return code
        time.sleep(0.005)
