"""Binder equivalence: `pip install -r requirements.txt` alone runs every notebook.

Binder (repo2docker) installs requirements.txt into a fresh environment and nothing
else. This test does the same in a brand-new virtual environment, outside the
development .venv, then imports the package and executes every notebook there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv

import pytest

from conftest import ROOT, notebook_paths

pytestmark = pytest.mark.slow


def run(cmd, **kw):
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def test_requirements_alone_run_every_notebook(tmp_path):
    env_dir = tmp_path / "binder-env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    # Binder runs pip from the repository root; `-e .` there installs the package.
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    run([str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "-r", "requirements.txt"], cwd=ROOT, env=env, timeout=1800)
    out = run([str(py), "-c", "import softmaxbook, sys; print(softmaxbook.__file__); print(sys.prefix)"],
              cwd=tmp_path, env=env).stdout.split()
    assert out[0].startswith(str(ROOT)) and out[1] == str(env_dir)
    # The kernel must be this environment's Python, not the development one.
    notebooks = [str(p) for p in notebook_paths()]
    proc = run([str(py), str(ROOT / "tests" / "nbrun.py"), *notebooks], cwd=ROOT, env=env, timeout=1800)
    assert proc.stdout.count("ok ") == len(notebooks)
    assert len([p for p in notebooks if not p.endswith("_further.md")]) == 8  # 4 chapters, 4 exercises
