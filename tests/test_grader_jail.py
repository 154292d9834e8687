"""The bubblewrap jail of the grader (graded exercises): deadlines that kill whole process
trees, output caps, no view of the host's processes or files, no network, bounded forks, a memory
and process budget per jail (cgroups)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT
from procs import running_with
from softmaxbook.grader import cgroups, jail

PY = sys.executable
LIMITS = jail.Limits(cpu_seconds=30, processes=64, output_bytes=100_000)


# A stubborn process: ignores SIGTERM/SIGALRM, forks a child and a double-forked, setsid'ed
# grandchild, all looping and writing a heartbeat to the scratch directory.
STUBBORN = """
import os, signal, sys, time
token = sys.argv[1]
for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT, signal.SIGHUP):
    signal.signal(s, signal.SIG_IGN)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            with open("beat-grandchild", "a") as f:
                f.write(token)
            time.sleep(0.05)
    os._exit(0)
if os.fork() == 0:
    while True:
        time.sleep(0.05)
signal.alarm(1)
print("started", flush=True)
while True:
    pass
"""


@pytest.mark.parametrize("sandbox", [True, False], ids=["jail", "no-sandbox"])
def test_deadline_kills_a_stubborn_process_and_its_children(sandbox, tmp_path):
    if not sandbox:  # without the jail, a setsid'ed grandchild leaves the group: trusted mode only
        stubborn = STUBBORN.replace("    os.setsid()\n", "")
    else:
        stubborn = STUBBORN
    token = "jailtest-" + secrets.token_hex(8)
    start = time.monotonic()
    out = jail.run([PY, "-c", stubborn, token], timeout=2, limits=LIMITS, scratch=tmp_path, sandbox=sandbox)
    took = time.monotonic() - start
    assert out.timed_out and "time limit of 2 s" in out.killed_reason and out.returncode == -9
    assert out.stdout == b"started\n"
    assert 1.9 < took < 4
    assert (tmp_path / "beat-grandchild").exists()   # the grandchild did run
    time.sleep(0.3)
    assert running_with(token) == []
    size = (tmp_path / "beat-grandchild").stat().st_size
    time.sleep(0.3)
    assert (tmp_path / "beat-grandchild").stat().st_size == size


def test_output_is_capped_and_the_process_killed():
    out = jail.run([PY, "-c", "import sys\nwhile True: sys.stdout.write('x' * 65536)"], timeout=20, limits=LIMITS)
    assert out.truncated and len(out.stdout) == LIMITS.output_bytes and out.stdout == b"x" * LIMITS.output_bytes
    assert "output over 100000 bytes" in out.killed_reason and not out.timed_out and out.returncode == -9


def test_stderr_keeps_its_tail_and_stdin_arrives():
    code = "import sys\ndata = sys.stdin.read()\nsys.stderr.write('e' * 200000 + 'END')\nprint(data[::-1])"
    out = jail.run([PY, "-c", code], stdin=b"abc", timeout=20, limits=LIMITS)
    assert out.returncode == 0 and out.stdout == b"cba\n"
    assert len(out.stderr) == jail.STDERR_TAIL and out.stderr.endswith(b"eEND")


def test_jail_sees_only_its_own_processes_and_files(tmp_path):
    (tmp_path / "secret.txt").write_text("the gradebook")
    code = ("import os, json\n"
            "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "paths = {p: os.path.exists(p) for p in os.environ['CHECK'].split(':')}\n"
            "print(json.dumps({'pids': pids, 'uid': os.getuid(), 'paths': paths, 'cwd': os.getcwd()}))")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    hidden = [str(tmp_path / "secret.txt"), str(ROOT / "tests"), str(ROOT / "README.md"), "/root/.bash_history",
              "/etc/passwd", "/etc/shadow"]
    out = jail.run([PY, "-c", code], timeout=20, limits=LIMITS, scratch=scratch, binds_ro=[ROOT / "softmaxbook"],
                   env={"CHECK": ":".join(hidden + [str(ROOT / "softmaxbook" / "__init__.py")])})
    import json
    got = json.loads(out.stdout)
    assert max(got["pids"]) < 10 and os.getpid() not in got["pids"]
    assert got["uid"] != 0
    assert got["cwd"] == str(scratch.resolve())
    assert got["paths"] == {**{p: False for p in hidden}, str(ROOT / "softmaxbook" / "__init__.py"): True}


def test_jail_cannot_write_outside_its_scratch(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    targets = [str(ROOT / "softmaxbook" / "pwned.py"), str(tmp_path / "pwned"), "/etc/pwned", "/usr/pwned",
               str(Path(sys.prefix) / "pwned")]
    code = ("import sys\n"
            "for t in sys.argv[1:]:\n"
            "    try:\n"
            "        open(t, 'w').write('x'); print('wrote', t)\n"
            "    except OSError as e:\n"
            "        print('refused', e.errno)\n"
            "open('ok.txt', 'w').write('fine'); open('/tmp/t.txt', 'w').write('fine')\n")
    out = jail.run([PY, "-c", code, *targets], timeout=20, limits=LIMITS, scratch=scratch,
                   binds_ro=[ROOT / "softmaxbook"])
    assert out.returncode == 0, out.stderr
    assert b"wrote" not in out.stdout and out.stdout.count(b"refused") == len(targets)
    assert not any(Path(t).exists() for t in targets)
    assert (scratch / "ok.txt").read_text() == "fine"


def test_jail_has_no_network_to_the_host():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    code = ("import socket, sys\n"
            "for host in ('127.0.0.1', '10.0.0.1'):\n"
            "    try:\n"
            "        socket.create_connection((host, int(sys.argv[1])), timeout=2); print('connected')\n"
            "    except OSError as e:\n"
            "        print('refused', type(e).__name__)\n")
    try:
        out = jail.run([PY, "-c", code, str(port)], timeout=20, limits=LIMITS)
    finally:
        server.close()
    assert out.returncode == 0 and b"connected" not in out.stdout and out.stdout.count(b"refused") == 2


def test_a_fork_bomb_is_bounded():
    code = ("import os, time\n"
            "n = 0\n"
            "try:\n"
            "    for _ in range(10000):\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(30); os._exit(0)\n"
            "        n += 1\n"
            "except OSError as e:\n"
            "    print('stopped', n, e.errno, flush=True)\n")
    start = time.monotonic()
    out = jail.run([PY, "-c", code], timeout=10, limits=jail.Limits(cpu_seconds=30, processes=32), sandbox=True)
    assert out.stdout.startswith(b"stopped "), out
    assert int(out.stdout.split()[1]) < 32
    assert time.monotonic() - start < 10     # ends when the parent does: the group is killed


def test_unavailable_without_bwrap_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = jail._probe()
    assert "not found" in reason and "bwrap" in reason
    jail._probe_cached.cache_clear()
    try:
        assert not jail.available() and "apt-get install bubblewrap" in jail.why_unavailable()
    finally:
        jail._probe_cached.cache_clear()


def test_available_here():
    assert jail.available(), jail.why_unavailable()
    assert jail.why_unavailable() == ""


def test_private_scratch_is_in_memory_and_bounded_and_rw_binds_are_writable(tmp_path):
    journal = tmp_path / "journal.txt"
    journal.write_text("")
    code = ("import os, sys\n"
            "open(sys.argv[1], 'w').write('kept')\n"
            "try:\n"
            "    with open('big', 'wb') as f:\n"
            "        for _ in range(64):\n"
            "            f.write(b'x' * 2**20)\n"
            "    print('wrote it all')\n"
            "except OSError as e:\n"
            "    print('full', e.errno, os.getcwd())\n")
    limits = jail.Limits(cpu_seconds=30, processes=64, scratch_bytes=8 * 2**20)
    out = jail.run([PY, "-c", code, str(journal)], timeout=20, limits=limits, binds_rw=[journal])
    assert out.returncode == 0, out.stderr
    word, errno, cwd = out.stdout.split()
    assert word == b"full" and int(errno) == 28          # ENOSPC: 8 MB and no more
    assert not Path(cwd.decode()).exists()               # nothing of it on the host, and removed
    assert journal.read_text() == "kept"


# --------------------------------------------------------------------------- the budget of a jail (cgroups)

V1_MOUNTS = """31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""


def test_cgroup_layouts_are_found_from_mountinfo_and_the_process_groups(tmp_path):
    found, why = cgroups.locate(V1_MOUNTS, "8:pids:/\n4:memory:/grader/a b\n0::/\n")
    assert why == "" and {h.controller: (str(h.group), h.v2) for h in found.values()} == {
        "memory": ("/sys/fs/cgroup/memory/grader/a b", False), "pids": ("/sys/fs/cgroup/pids", False)}
    group = tmp_path / "user.slice" / "grader"
    group.mkdir(parents=True)
    (group / "cgroup.controllers").write_text("cpu memory pids\n")
    v2 = f"30 23 0:26 / {tmp_path} rw - cgroup2 cgroup2 rw\n"
    found, why = cgroups.locate(v2, "0::/user.slice/grader\n")
    assert why == "" and {h.group for h in found.values()} == {group} and all(h.v2 for h in found.values())
    # the grader moved itself into its leaf: the jails go beside it
    assert {h.group for h in cgroups.locate(v2, f"0::/user.slice/grader/{cgroups.LEAF}\n")[0].values()} == {group}
    (group / "cgroup.controllers").write_text("cpu memory\n")
    assert cgroups.locate(v2, "0::/user.slice/grader\n") == (
        {}, f"the pids controller is not enabled for {group} (cgroup v2)")
    assert cgroups.locate("", "0::/\n")[1] == "no memory cgroup is mounted; no pids cgroup is mounted"


needs_cgroups = pytest.mark.skipif(not cgroups.hierarchies()[0], reason=f"no cgroup here: {cgroups.hierarchies()[1]}")


@needs_cgroups
def test_a_jails_groups_are_removed_with_every_process_in_them():
    found, _ = cgroups.hierarchies()
    group = cgroups.Group(found, memory=256 * 2**20, processes=16)
    pid = os.fork()
    if pid == 0:
        try:
            group.join()
            os.setsid()                       # out of every process group: only the cgroup holds it
            time.sleep(60)
        finally:
            os._exit(0)
    deadline = time.monotonic() + 5
    while pid not in group.pids() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pid in group.pids()
    group.close()
    assert os.waitpid(pid, 0)[1] == signal.SIGKILL
    assert not any(d.exists() for d in group.dirs)


@needs_cgroups
def test_the_empty_groups_a_killed_grader_left_are_swept_and_others_kept():
    found, _ = cgroups.hierarchies()
    parent = found[0].group
    stale, fresh = parent / (cgroups.PREFIX + "stale-test"), parent / (cgroups.PREFIX + "fresh-test")
    try:
        stale.mkdir()
        fresh.mkdir()
        old = time.time() - 2 * cgroups.STALE_SECONDS
        os.utime(stale, (old, old))
        cgroups._sweep(parent)
        assert not stale.exists() and fresh.exists()
    finally:
        for d in (stale, fresh):
            if d.exists():
                d.rmdir()
