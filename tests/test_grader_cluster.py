"""The batch grader on a dask.distributed cluster (``grade --scheduler``): a scheduler and two
workers started as separate processes on 127.0.0.1 (one cluster for the module), the
project's fixture submissions graded through them and through the local pool. Either way the
instructor's process grades nothing: the worker that ran a submission grades it, and what a
dask worker returns is checked (tests/test_grader_cluster_rows.py checks the row's schema)."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import distributed
import pytest

from conftest import ROOT
from dask_cluster import local_cluster
from procs import kill_after_first_row
from test_grader_attacks_round3 import _vanishing_answer, notebook
from softmaxbook.grader import cluster, grading
from softmaxbook.grader.batch import grade_folder

FIX = ROOT / "tests" / "fixtures"
CELL, TOTAL = 4, 12            # seconds: the endless loop is stopped by its jail at TOTAL
# The submissions: single notebooks, one learner folder of two notebooks, and broken ones.
ENTRIES = {"solved_ex4.md": FIX / "solved" / "ex4_logsumexp.md", "wrong_ex2.md": FIX / "wrong" / "ex2_hessian.md",
           "stubborn_loop.md": FIX / "hostile" / "stubborn_loop.md", "crash_exit.md": FIX / "hostile" / "crash_exit.md",
           "malformed.ipynb": FIX / "hostile" / "malformed.ipynb", "learner": None,
           # right at the key's public points only: 0 where graded with the secret seed's points too
           "poly_vanish.md": notebook(f"from softmaxbook.grader import check\n"
                                      f"check('ch1.sigmoid_variance', {_vanishing_answer()!r})")}


def _copy(names, dest: Path) -> Path:
    dest.mkdir()
    for name in names:
        if ENTRIES[name] is None:   # a learner's folder: a solved chapter 1 and a wrong chapter 3
            (dest / name).mkdir()
            shutil.copy(FIX / "solved" / "ex1_exponential_family.md", dest / name)
            shutil.copy(FIX / "wrong" / "ex3_coding.md", dest / name)
        elif isinstance(ENTRIES[name], str):
            (dest / name).write_text(ENTRIES[name])
        else:
            shutil.copy(ENTRIES[name], dest / name)
    return dest


def _outputs(out_csv: Path) -> dict[str, str]:
    """Every gradebook and feedback file a run wrote, by name (not the state file, whose rows
    hold timings, nor the report page)."""
    files = {p.name: p.read_text() for p in out_csv.parent.glob("*.csv")}
    feedback = out_csv.with_name(out_csv.stem + "_feedback")
    files.update({f"feedback/{p.name}": p.read_text() for p in sorted(feedback.iterdir())})
    return files


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    """Address of a local scheduler with two single-thread workers (each its own process,
    under a nanny that restarts it when it is killed). The scheduler gives up on a task
    after 2 worker deaths and gives each worker one task at a time."""
    with local_cluster(tmp_path_factory.mktemp("cluster"), 2, cwd=ROOT,
                       scheduler_config={"allowed-failures": 1, "worker-saturation": 1.0}) as address:
        assert address.startswith("tcp://127.0.0.1:")
        yield address


@pytest.fixture()
def client(scheduler):
    """A client of the module's cluster, once both workers are up (a killed one is restarted)."""
    with distributed.Client(scheduler, timeout=60, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=120)
        yield c


def _grading_only_elsewhere(monkeypatch) -> list:
    """Make :func:`.grading.grade_answers` raise when it is called in this process (the
    instructor's); a forked process of the local pool inherits the patch but grades as before.
    The list records the instructor's calls."""
    instructor, calls, grade = os.getpid(), [], grading.grade_answers

    def spy(*args, **kwargs):
        if os.getpid() == instructor:
            calls.append(args)
            raise AssertionError("the instructor's process graded an answer")
        return grade(*args, **kwargs)

    monkeypatch.setattr(grading, "grade_answers", spy)
    return calls


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The gradebooks and feedback of the local pool (-j 2) over every entry; the instructor's
    process graded none of them (each pool process grades what it ran)."""
    subs = _copy(ENTRIES, tmp_path_factory.mktemp("local") / "subs")
    out = subs.parent / "out" / "grades.csv"
    out.parent.mkdir()
    with pytest.MonkeyPatch.context() as mp:
        calls = _grading_only_elsewhere(mp)
        grade_folder(subs, out, workers=2, cell_timeout=CELL, total_timeout=TOTAL, log=lambda s: None)
    assert calls == []
    return _outputs(out)


def _rows_of(files: dict, names) -> dict:
    """``{name: gradebook line}`` of the entries ``names`` over every gradebook in ``files``."""
    rows = {}
    for fname, text in files.items():
        if fname.endswith(".csv"):
            for line in text.splitlines()[1:]:
                for name in names:
                    if line.startswith((name + ",", name + "/")):    # a learner's folder: one entry per assignment
                        rows.setdefault(name, set()).add((fname, line))
    return rows


def _ours(keys) -> list:
    return [k for k in keys if str(k).startswith("softmaxbook-grade-")]


def _kill_worker_running(client, after=1.0, avoid=()) -> tuple[str, int]:
    """SIGKILL the worker process that runs one of the grader's tasks (``after`` seconds into
    it, not one of the workers in ``avoid``); its address and how many of the grader's tasks
    it held (each is run again: a retry)."""
    deadline = time.time() + 120
    while time.time() < deadline:
        busy = [w for w, keys in client.processing().items() if w not in avoid and _ours(keys)]
        if busy:
            worker = busy[0]
            time.sleep(after)
            pid = client.run(os.getpid, workers=[worker])[worker]
            held = len(_ours(client.processing().get(worker, ())))
            os.kill(pid, signal.SIGKILL)
            return worker, held
        time.sleep(0.1)
    raise AssertionError("no task of the grader was seen running")


def _retries(n: int) -> str:
    return f"cluster: {n} {'retry' if n == 1 else 'retries'} of a submission after its worker died"


def test_the_cluster_gradebook_equals_the_local_pools(scheduler, client, local, tmp_path, monkeypatch):
    subs = _copy(ENTRIES, tmp_path / "subs")
    out = tmp_path / "out" / "grades.csv"
    out.parent.mkdir()
    log = []
    calls = _grading_only_elsewhere(monkeypatch)   # the workers graded every row
    grade_folder(subs, out, workers=2, cell_timeout=CELL, total_timeout=TOTAL, log=log.append, scheduler=scheduler)
    assert calls == []
    assert _outputs(out) == local
    rows = _rows_of(local, ENTRIES)
    assert set(rows) == set(ENTRIES)
    # graded on the workers with the run's secret seed (the answer is right at the public points)
    ex1 = {r["submission"]: r for r in csv.DictReader(out.with_name("grades_ex1.csv").read_text().splitlines())}
    assert ex1["poly_vanish.md"]["ch1.sigmoid_variance"] == "0.000"
    seed = json.loads(out.with_name("grades.csv.state.json").read_text())["/secret"]
    assert not [name for name, text in _outputs(out).items() if seed in text]   # never shown to a learner
    # The endless loop was stopped by its own jail at the notebook's limit, not by dask.
    loop = " ".join(line for _, line in rows["stubborn_loop.md"])
    assert "whole submission" in loop and f"{TOTAL}" in loop
    progress = [line for line in log if line.startswith("[")]
    assert len(progress) == len(ENTRIES) + 1 and all("%" in line for line in progress)   # learner/ex1, learner/ex3
    assert _retries(0) in log
    spent = [line for line in log if "on the workers" in line]
    assert spent and all("s of running and grading on the workers; here" in line for line in spent), log


def test_a_worker_killed_mid_run_loses_no_row_and_changes_no_grade(scheduler, client, local, tmp_path):
    names = ["stubborn_loop.md", "solved_ex4.md", "wrong_ex2.md"]
    subs = _copy(names, tmp_path / "subs")
    out = tmp_path / "out" / "grades.csv"
    out.parent.mkdir()
    killed = []
    killer = threading.Thread(target=lambda: killed.append(_kill_worker_running(client)))
    killer.start()
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=CELL, total_timeout=TOTAL, log=log.append, scheduler=scheduler)
    killer.join()
    (_, held), = killed
    assert held >= 1
    assert _rows_of(_outputs(out), names) == _rows_of(local, names)
    assert _retries(held) in log, "\n".join(log)


def test_a_submission_whose_workers_keep_dying_gets_a_row_saying_so(scheduler, client, tmp_path):
    subs = _copy(["stubborn_loop.md"], tmp_path / "subs")
    out = tmp_path / "out" / "grades.csv"
    out.parent.mkdir()

    def kill_twice():
        first, _ = _kill_worker_running(client, after=0.5)
        _kill_worker_running(client, after=0.5, avoid=(first,))

    killer = threading.Thread(target=kill_twice)
    killer.start()
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=CELL, total_timeout=TOTAL, log=log.append, scheduler=scheduler)
    killer.join()
    (row,) = csv.DictReader(out.read_text().splitlines())
    assert (row["submission"], row["status"], row["reason"]) == ("stubborn_loop.md", "error", "worker died 2 times")
    assert _retries(1) in log, "\n".join(log)


def test_the_instructors_command_killed_mid_run_resumes_to_the_same_gradebook(scheduler, client, local, tmp_path):
    names = ["solved_ex4.md", "wrong_ex2.md", "crash_exit.md", "learner"]
    subs = _copy(names, tmp_path / "subs")
    out = tmp_path / "out" / "grades.csv"
    out.parent.mkdir()
    state = out.with_name(out.name + ".state.json")
    cmd = [sys.executable, "-m", "softmaxbook", "grade", str(subs), "-o", str(out), "--cell-timeout", str(CELL),
           "--total-timeout", str(TOTAL), "--scheduler", scheduler]
    before = kill_after_first_row(cmd, state, ROOT)
    assert 1 <= before < len(names) + 1
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    entries = len(names) + 1     # the learner's folder of ex1 and ex3 is two entries, one per assignment
    assert f"{before} already graded and unchanged, {entries - before} to grade" in again.stdout
    assert _rows_of(_outputs(out), names) == _rows_of(local, names)


def test_without_scheduler_dask_is_not_imported(tmp_path):
    subs = _copy(["malformed.ipynb"], tmp_path / "subs")
    code = ("import sys\nfrom softmaxbook.__main__ import main\n"
            f"code = main(['grade', {str(subs)!r}, '-o', {str(tmp_path / 'g.csv')!r}, '--total-timeout', '20'])\n"
            "print(code, sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))")
    got = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert got.stdout.splitlines()[-1] == "0 []", got.stderr
    assert (tmp_path / "g.csv").read_text().count("malformed.ipynb") == 1


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 1.0)
    subs = _copy(["malformed.ipynb"], tmp_path / "subs")
    with pytest.raises(RuntimeError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"):
        grade_folder(subs, tmp_path / "g.csv", scheduler="tcp://127.0.0.1:9", log=lambda s: None)
    assert not (tmp_path / "g.csv").exists()


def test_a_broken_or_forged_task_result_is_an_error_row_of_its_entry(scheduler, client, tmp_path, monkeypatch):
    """The task sent to the workers is replaced by one returning, per submission, a result that is
    not a finished row of that submission; each entry gets an error row saying why, the run goes on."""
    good = json.loads(cluster.grade_task([("a.md", b"")], CELL, TOTAL, sandbox=False))["row"]
    forged = {**good, "status": "graded", "assignment": "ex4", "scores": {"softmax.x": 1.0}}

    def task(names, row=None, **top):
        return json.dumps({"format": cluster.TASK_FORMAT, "names": names, "row": row or good, **top})

    results = {"malformed.md": lambda names: "{",
               "oversized.md": lambda names: task(names, {**good, "reason": "x" * cluster.max_task_result(1)}),
               "forged.md": lambda names: task(names, forged),
               "elsewhere.md": lambda names: task(["other.md"]),
               "old.md": lambda names: task(names, format="softmaxbook-task/1"),
               "bytes.md": lambda names: b"{}"}
    why = {"malformed.md": "not JSON", "oversized.md": "task result too large",
           "forged.md": "scores that are not one in [0, 1] per exercise of the assignment",
           "elsewhere.md": "a task result for other notebooks", "old.md": "not a task result of this grader",
           "bytes.md": "not text"}
    # a closure: sent to the workers by value (cloudpickle), nothing of this module imported there
    monkeypatch.setattr(cluster, "grade_task", lambda notebooks, *args: results[notebooks[0][0]](
        [name for name, _ in notebooks]))
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in results:
        shutil.copy(FIX / "solved" / "ex4_logsumexp.md", subs / name)
    out = tmp_path / "out" / "grades.csv"
    out.parent.mkdir()
    log = []
    grade_folder(subs, out, workers=2, cell_timeout=CELL, total_timeout=TOTAL, log=log.append, scheduler=scheduler)
    rows = {r["submission"]: r for r in csv.DictReader(out.read_text().splitlines())}
    assert {n: (r["status"], r["reason"]) for n, r in rows.items()} == {
        n: ("error", f"the worker's task result was invalid ({w})") for n, w in why.items()}
    for name, w in why.items():   # the progress line names the entry and says why
        assert [line for line in log if f"{name}: 0 %" in line and w in line], (name, log)
