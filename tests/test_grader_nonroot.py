"""The grader's attack suites again, as an instructor who is not root (issue 24).

Run as root, the jail drops to a random uid, so the learner's code can touch nothing of the
grader's (its pipes are root's); run as another user, the jail keeps that user's uid, and
cgroups are there only when the machine delegates some to that user. This test makes a
throwaway user, gives it a view of the files it needs (a private mount namespace where a
folder closed to others, such as root's home holding Python, shows only what is needed),
and re-runs the attack suites as that user twice:

- with a memory and a pids cgroup delegated to it (made inside this process's own groups and
  handed over, as a machine's administrator would): every attack must fail as it does for root;
- with nothing delegated: ``grade`` must say, once, that it has no budget per jail and what it
  falls back to, and still grade.

It is skipped only when it cannot run: not root already (then the suite itself is the
unprivileged run), no ``useradd``/``runuser``/``unshare``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ROOT
from softmaxbook.grader import cgroups, jail

SUITES = ["tests/test_grader_jail.py", "tests/test_grader_functions.py", "tests/test_grader_warm.py",
          "tests/test_grader_attacks_batch.py", "tests/test_grader_attacks_round3.py"]
TOOLS = ("useradd", "userdel", "runuser", "unshare", "mount")

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="not root: this run of the suite already is the unprivileged one"),
    pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS), reason=f"needs {', '.join(TOOLS)}"),
    pytest.mark.skipif(not jail.available(), reason="bubblewrap does not work here"),
]


def _needed() -> list[Path]:
    """What the unprivileged user must read: this checkout, its virtual environment, Python."""
    paths = {ROOT, Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    return sorted(Path(os.path.realpath(p)) for p in paths)


def _closed(paths) -> dict[Path, set[str]]:
    """Folders on the way to ``paths`` that others may not enter, with the entries needed in each."""
    out = {}
    for p in paths:
        for parent in reversed(p.parents):
            if parent != Path("/") and not os.stat(parent).st_mode & 0o001:
                out.setdefault(parent, set()).add(p.relative_to(parent).parts[0])
                break
    return out


def _view_script(keep: Path, closed: dict[Path, set[str]]) -> str:
    """Shell lines, run as root in a private mount namespace: each closed folder replaced by an
    open, empty one into which only the needed entries are bound back."""
    lines, k = [], 0
    for folder, names in closed.items():
        for name in sorted(names):
            (keep / str(k)).mkdir()
            lines.append(f"mount --bind '{folder / name}' '{keep / str(k)}'")
            k += 1
    k = 0
    for folder, names in closed.items():
        lines.append(f"mount -t tmpfs -o mode=755 tmpfs '{folder}'")
        for name in sorted(names):
            target = folder / name
            lines.append(f"mkdir -p '{target}' && mount --bind '{keep / str(k)}' '{target}'")
            k += 1
    return " && ".join(lines) or "true"


@pytest.fixture(scope="module")
def learner_user():
    name = f"sbtest{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", name], check=True, capture_output=True)
    home = Path(tempfile.mkdtemp(prefix="softmaxbook-nonroot-"))   # not under pytest's own, closed to others
    home.chmod(0o755)
    work = home / "work"
    work.mkdir()
    shutil.chown(work, name, name)
    try:
        yield name, home, work
    finally:
        uid = _ids(name)[0]
        for pid in _pids_of(uid):   # whatever this throwaway user still runs, by pid
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        subprocess.run(["userdel", "-f", name], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def _delegate(user: str) -> tuple[list[Path], list[str]]:
    """A memory and a pids group inside this process's own, owned by ``user``; the files to
    join them, or ``([], [])`` where this process has none."""
    found, _ = cgroups.hierarchies()
    dirs = sorted({h.group / f"softmaxbook-test-{user}" for h in found})
    for d in dirs:
        d.mkdir()
        for p in [d, *d.iterdir()]:
            os.chown(p, *_ids(user))
    return dirs, [str(d / "cgroup.procs") for d in dirs]


def _ids(user: str) -> tuple[int, int]:
    import pwd
    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def _as_user(user: str, home: Path, work: Path, argv: list[str], join=(), timeout: float = 3600):
    """Run ``argv`` as ``user`` in a private mount namespace that lets it read what it needs,
    in the cgroups of ``join`` (their ``cgroup.procs`` files)."""
    keep = Path(tempfile.mkdtemp(dir=home, prefix="keep-"))
    script = _view_script(keep, _closed(_needed()))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8", "TMPDIR": "/tmp",
           "PYTHONDONTWRITEBYTECODE": "1", "SOFTMAXBOOK_PROGRESS": str(work / "progress.json")}
    inner = ["runuser", "-u", user, "--", "env", *[f"{k}={v}" for k, v in env.items()], *argv]

    def enter():
        for procs in join:
            fd = os.open(procs, os.O_WRONLY)
            os.write(fd, b"0")
            os.close(fd)
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
                           script + ' && exec "$@"', "view", *inner], cwd=ROOT, capture_output=True, text=True,
                          errors="replace", timeout=timeout, preexec_fn=enter if join else None)


def _pids_of(uid: int) -> list[int]:
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if os.stat(entry.path).st_uid == uid:
                    out.append(int(entry.name))
            except OSError:
                continue
    return out


def _remove(dirs: list[Path]) -> list[str]:
    """Remove the delegated groups (the grader removes its jails' own); the groups that were
    still there (a jail's group left behind would be one)."""
    left = []
    for d in dirs:
        subs = [p for p in d.iterdir() if p.is_dir()]
        left += [p.name for p in subs]
        for group in subs + [d]:
            for pid in (group / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            for _ in range(500):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.01)
    return left


def test_the_attack_suites_pass_as_a_user_with_delegated_cgroups(learner_user):
    user, home, work = learner_user
    dirs, join = _delegate(user) if cgroups.hierarchies()[0] else ([], [])
    try:
        out = _as_user(user, home, work, [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs",
                                          f"--basetemp={work / 'pytest'}", *SUITES], join=join)
    finally:
        left = _remove(dirs)
    assert left == []     # every jail's group was removed by the grader
    summary = out.stdout.strip().splitlines()[-1] if out.stdout.strip() else out.stderr[-2000:]
    print(f"as {user} (uid {_ids(user)[0]}), cgroups delegated: {bool(dirs)}: {summary}")
    assert out.returncode == 0, out.stdout[-6000:] + out.stderr[-2000:]
    if dirs:   # the budget tests ran: none of them was skipped for want of a cgroup
        assert "no cgroup can be made here" not in out.stdout


def test_without_a_cgroup_grade_says_once_what_it_falls_back_to(learner_user):
    user, home, work = learner_user
    subs = work / "subs"
    subs.mkdir()
    (subs / "ex3.md").write_text((ROOT / "tests" / "fixtures" / "solved" / "ex3_coding.md").read_text())
    shutil.chown(subs, user, user)
    shutil.chown(subs / "ex3.md", user, user)
    out = _as_user(user, home, work, ["sh", "-c", f"cd '{work}' && exec '{sys.executable}' -m softmaxbook grade subs "
                                      "-o grades.csv -j 1"], timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    print(out.stdout.splitlines()[1])
    assert out.stdout.count("memory and process budget") == 1
    assert "No memory and process budget per jail:" in out.stdout
    assert "Falling back to the per-process limits" in out.stdout and "not run as root" in out.stdout
    assert "100 %" in out.stdout
