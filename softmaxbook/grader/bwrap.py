"""The jail's command line (graded exercises, all chapters): the ``bwrap`` arguments that build its
file system and namespaces, the ``prlimit`` arguments of its resource limits and its minimal
environment. :mod:`.jail` puts them together and says what they guarantee (its docstring is the
threat model); nothing here starts a process.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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


def python_dirs() -> list[Path]:
    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.base_exec_prefix),
            Path(os.path.realpath(sys.executable)).parent.parent}
    return sorted(d for d in dirs if d.is_dir() and not any(str(d).startswith(s + "/") for s in SYSTEM_DIRS))


def bwrap_argv(binds_ro, scratch: Path, uid: int | None, private: bool, size: int, binds_rw, hide,
               inodes: int) -> list[str]:
    """``bwrap`` and its arguments up to the command (see :mod:`.jail`): ``scratch`` writable
    (``private``: a tmpfs of ``size`` bytes), ``binds_ro``/``binds_rw`` at their own paths,
    ``hide`` seen empty; run as root (``uid``), the remount of ``inodes`` and ``setpriv``."""
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
    for d in python_dirs() + [Path(p) for p in binds_ro]:
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


def user_tasks(uid: int) -> int:
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


def prlimit_argv(limits, nproc: int) -> list[str]:
    """``prlimit`` and the per-process limits of ``limits`` (a :class:`.jail.Limits`)."""
    return ["prlimit", f"--cpu={int(limits.cpu_seconds)}", f"--as={int(limits.address_space)}",
            f"--nproc={int(nproc)}", f"--fsize={int(limits.file_size)}", "--core=0", "--"]


def environment(scratch: Path, env: dict | None) -> dict:
    """A minimal environment (nothing of the caller's) with ``env`` added."""
    base = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": "/tmp",
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "learner", "LOGNAME": "learner",
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": str(scratch / ".matplotlib"), "JUPYTER_PLATFORM_DIRS": "1",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    if env:
        base.update({str(k): str(v) for k, v in env.items()})
    return base
