"""Helper of the grader's sandbox tests: find host processes by a marker in their command line."""

from __future__ import annotations

import os


def running_with(token: str) -> list[int]:
    """Host pids whose command line contains ``token`` (a marker the attack puts in its argv)."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if token.encode() in f.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found
