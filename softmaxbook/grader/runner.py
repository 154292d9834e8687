"""Execute one submitted notebook *inside* the grader's jail and print one JSON document.

    python -P softmaxbook/grader/runner.py NOTEBOOK --cell-timeout 60 --total-timeout 600
    python -m softmaxbook.grader.runner NOTEBOOK ...      # the same, slower to start

(Started by its path it imports only the standard library and nbclient: the kernel imports
the course package itself.)

Graded exercises, all chapters. The batch grader (:mod:`.running`) starts this module through
:func:`.jail.run`, so the executor (nbclient) and the kernel run together in the same sandbox
(the jail has only its own loopback network). It

1. reads the notebook (``.ipynb`` or jupytext ``.md``), drops its outputs and appends a last
   cell that writes the answers checked in the kernel (:func:`.learner.submitted`) to a file;
2. executes it top to bottom in a fresh kernel: errors do not stop it, a cell that exceeds
   ``--cell-timeout`` is interrupted, the kernel is killed when the whole notebook exceeds
   ``--total-timeout``, and outputs beyond ``--max-output`` bytes are dropped (not kept in
   memory);
3. writes to its *original* stdout a single JSON document of plain data:
   ``{"format": FORMAT, "answers": {id: answer}, "notes": [...], "reason": "...",
   "stops": [{"kind", "cell", "limit"}], "checks": [[id, cell]], "errors": [{"cell", "type",
   "message"}]}``: ``errors`` lists the cells that raised (the exception's type and message),
   ``stops`` says where
   the run was stopped (``malformed``, ``cell-timeout``, ``total-timeout``, ``crash``; cell
   numbers count every cell from 1, ``limit`` in seconds) and ``checks`` where the notebook
   calls ``check("<id>", ...)``, so that the instructor is told which cell to open.
   The kernel's own stdout and stderr go to this process's stderr, never into the document.

Everything here runs with the learner's code next to it, so the document is only a claim:
the grader validates it (:func:`.running.validate_document`) and grades the answers again in
its own process. Nothing is unpickled.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading

FORMAT = "softmaxbook-run/2"
# Bytes of the document this prints, and of the answers read back (journal or final file): one
# figure, so that the answers the journal holds fit the document too. 8 MiB: a notebook's answers
# are formulas, small arrays and function pickles (each at most answers.MAX_PICKLE), far below it.
MAX_DOCUMENT = 8 * 2**20
JOURNAL = "answers.jsonl"         # appended to by check() while the notebook runs
FINAL = "answers-final.json"      # written by the added last cell
STOP_KINDS = ("malformed", "cell-timeout", "total-timeout", "crash")
# The cells that raised: at most this many, each exception's type and message cut to these lengths.
MAX_ERRORS, MAX_ERROR_TYPE, MAX_ERROR_MESSAGE = 50, 80, 300
# The pattern of assignments.CHECK_CALL, on a cell's source text (this file runs standalone in the
# jail and imports nothing of the package, so it keeps its own copy).
CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z0-9_.]{1,60})["']""")


def read_notebook(path: str):
    """The notebook as an nbformat node (raises on a malformed file)."""
    import warnings

    import nbformat
    warnings.filterwarnings("ignore", module="nbformat")
    if path.endswith(".md"):
        import jupytext
        return jupytext.read(path)
    with open(path, encoding="utf-8") as f:
        nb = nbformat.read(f, as_version=4)
    if not isinstance(nb.get("cells"), list):
        raise ValueError("no list of cells")
    return nb


def _harvest_code(path: str) -> str:
    return ("import json as _j\n"
            "try:\n"
            "    import softmaxbook.grader.learner as _L\n"
            f"    with open({path!r}, 'w') as _f:\n"
            "        _j.dump(_L.submitted(), _f, default=str)\n"
            "except Exception:\n"
            "    pass\n")


def read_answers(path: str) -> dict:
    """Answers in a journal (JSON lines ``{"id", "answer"}``, the last per id wins) or a final
    file (one JSON object ``{id: answer}``); ``{}`` when missing or unreadable. Reads at most
    :data:`MAX_DOCUMENT` bytes and never follows a symbolic link or opens a special file."""
    text = read_capped(path, MAX_DOCUMENT)
    if text is None:
        return {}
    out = {}
    if path.endswith(".json"):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return {}
        return {str(k)[:60]: v for k, v in obj.items() if isinstance(v, dict)} if isinstance(obj, dict) else {}
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(rec, dict) and isinstance(rec.get("id"), str) and isinstance(rec.get("answer"), dict):
            out[rec["id"][:60]] = rec["answer"]
    return out


def read_capped(path, cap: int) -> str | None:
    """Text of a regular file (at most ``cap`` bytes; ``None`` if missing, a link or special)."""
    import stat
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            return f.read(cap).decode("utf-8", "replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def _client_class(max_output: int):
    from nbclient import NotebookClient

    class CappedClient(NotebookClient):
        """nbclient that keeps at most ``max_output`` bytes of outputs (errors always kept)."""
        output_bytes = 0
        dropped = False
        current = None          # index of the cell being executed
        timeouts: list = []     # (cell index, limit) of cells interrupted at the cell limit

        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            self.current = cell_index
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

        async def _async_handle_timeout(self, timeout, cell=None):
            if (self.current, timeout) not in self.timeouts:   # a cell that ignores interrupts is reported once
                self.timeouts = self.timeouts + [(self.current, timeout)]
            return await super()._async_handle_timeout(timeout, cell)

        def output(self, outs, msg, display_id, cell_index):
            content = msg.get("content", {})
            if msg.get("msg_type") != "error":
                size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in (content.get("data") or {}).values())
                self.output_bytes += size
                if self.output_bytes > max_output:
                    self.dropped = True
                    return None
            return super().output(outs, msg, display_id, cell_index)

    return CappedClient


def execute(path: str, cell_timeout: float, total_timeout: float, max_output: int, journal: str = "") -> dict:
    """Run the notebook; the document (plain data) to print."""
    import nbformat
    from nbclient.exceptions import DeadKernelError

    try:
        nb = read_notebook(path)
    except Exception as exc:
        return {"answers": {}, "notes": [], "reason": f"malformed notebook: {type(exc).__name__}",
                "stops": [{"kind": "malformed", "cell": None, "limit": None}], "checks": [], "errors": []}
    for c in nb.cells:
        if c.get("cell_type") == "code":
            c["outputs"], c["execution_count"] = [], None
    work = os.getcwd()
    final = os.path.join(work, FINAL)
    journal = journal or os.path.join(work, JOURNAL)
    # The kernel alone gets the grader's variables (this process's environment is left as it is).
    env = {**os.environ, "SOFTMAXBOOK_PROGRESS": os.path.join(work, "progress.json"), "SOFTMAXBOOK_HARVEST": journal}
    nb.cells = [c for c in nb.cells if c.get("cell_type") in ("code", "markdown", "raw")]
    nb.cells.append(nbformat.v4.new_code_cell(_harvest_code(final)))
    client = _client_class(max_output)(nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
                                       interrupt_on_timeout=True, resources={"metadata": {"path": work}})
    killed = threading.Event()

    def watchdog():
        try:
            pid = client.km.provisioner.process.pid
            killed.set()
            os.kill(pid, 9)
        except Exception:
            pass

    timer = threading.Timer(total_timeout, watchdog)
    timer.start()
    reason, stops = "", []
    try:
        client.execute(env=env)
    except Exception as exc:
        cell = None if client.current is None else client.current + 1
        if killed.is_set():
            reason = "time limit for the whole notebook exceeded"
            stops.append({"kind": "total-timeout", "cell": cell, "limit": total_timeout})
        elif isinstance(exc, DeadKernelError):
            reason = "the kernel died while running the notebook (a crash or os._exit?)"
            stops.append({"kind": "crash", "cell": cell, "limit": None})
        else:
            reason = f"the notebook could not be executed: {type(exc).__name__}: {str(exc)[:200]}"
            stops.append({"kind": "crash", "cell": cell, "limit": None})
    finally:
        timer.cancel()
    stops = [{"kind": "cell-timeout", "cell": None if k is None else k + 1, "limit": limit}
             for k, limit in client.timeouts[:20]] + stops
    checks = [[m, k + 1] for k, c in enumerate(nb.cells[:-1]) if c.get("cell_type") == "code"
              for m in CHECK_CALL.findall(str(c.get("source", "")))][:500]
    errors = [{"cell": k + 1, "type": str(o.get("ename"))[:MAX_ERROR_TYPE], "message": str(o.get("evalue"))[:MAX_ERROR_MESSAGE]}
              for k, c in enumerate(nb.cells[:-1]) if c.get("cell_type") == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"][:MAX_ERRORS]
    notes = [f"outputs beyond {max_output} bytes were dropped"] if client.dropped else []
    answers = read_answers(journal)
    if os.path.exists(final):
        answers.update(read_answers(final))
    elif answers:  # the kernel died or hung: keep what was checked before
        reason = reason or "the answers were collected from the journal (the last cell did not finish)"
    else:
        reason = reason or "the answers could not be collected (the last cell did not finish)"
    return {"answers": answers, "notes": notes, "reason": reason, "stops": stops, "checks": checks, "errors": errors}


def _undumpable() -> None:
    """Make this process non-dumpable (Linux): the kernel runs under the same uid, but may then
    neither open this process's memory or file descriptors through ``/proc`` (the document's
    channel among them) nor ptrace it."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):   # not Linux
        pass


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m softmaxbook.grader.runner")
    ap.add_argument("notebook")
    ap.add_argument("--cell-timeout", type=float, default=60)
    ap.add_argument("--total-timeout", type=float, default=600)
    ap.add_argument("--max-output", type=int, default=10_000_000)
    ap.add_argument("--journal", default="", help="file the answers are appended to as they are checked "
                    "(default: answers.jsonl in the working directory)")
    args = ap.parse_args(argv)
    _undumpable()
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")   # the document's channel, not inherited
    os.dup2(2, 1)                                        # the kernel's stdout goes to stderr
    sys.stdout = sys.stderr
    doc = execute(args.notebook, args.cell_timeout, args.total_timeout, args.max_output, args.journal)
    out.write(json.dumps({"format": FORMAT, **doc}, default=str))
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
