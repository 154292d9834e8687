"""The website's exercise archives (softmaxbook/downloads.py, made by `make book`).

Unit tests of what goes into an archive, checks of the archives in the built site, and the
learner's path end to end (slow): unpack the course archive into an empty folder, run the
two commands of its README there (a fresh virtual environment, nothing else from the
repository), fill in the notebooks with the answer key's right answers, run them top to
bottom in that environment's kernel and find full marks for every exercise, function
answers included (graded in the bubblewrap jail where it works here, from the installed wheel).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT
from softmaxbook import downloads

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
from submissions import SOLVED, answer_ids  # noqa: E402

NOTEBOOKS = downloads.assignments(ROOT)
ARCHIVES = [*(md.stem for md in NOTEBOOKS), downloads.COURSE_ARCHIVE]
BOOK_ONLY = ("jupyter-book", "sphinx", "sphinxcontrib", "-e ")


# --------------------------------------------------------------------------- unit

def test_the_assignments_are_the_four_exercise_notebooks_in_order():
    assert [p.name for p in NOTEBOOKS] == sorted(p.name for p in (ROOT / "exercises").glob("ex*.md"))
    assert len(NOTEBOOKS) == 4
    assert downloads.assignment(ROOT, 2) == ROOT / "exercises" / "ex2_hessian.md"
    assert downloads.assignment(ROOT, 9) is None
    assert downloads.archive_url("ex2_hessian", "chapters/02_hessian_is_variance") == "../downloads/ex2_hessian.zip"
    assert downloads.archive_url(downloads.COURSE_ARCHIVE, "intro") == f"downloads/{downloads.COURSE_ARCHIVE}.zip"


def test_learner_requirements_pin_what_a_notebook_needs_at_the_repository_versions():
    text = downloads.learner_requirements(ROOT, "softmaxbook-0.1.0-py3-none-any.whl")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    ours = downloads.pins((ROOT / "requirements.txt").read_text())
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    needed = [re.match(r"[A-Za-z0-9_.-]+", d).group(0) for d in deps] + ["ipykernel"]
    for name in needed + ["numpy", "sympy", "mpmath", "matplotlib", "ipywidgets", "cloudpickle"]:
        assert ours[name.lower()] in lines, name
    lab = downloads.pins((ROOT / "requirements-lab.txt").read_text())
    assert lab["jupyterlab"].startswith("jupyterlab==") and lab["jupyterlab"] in lines
    assert lines[-1] == "./softmaxbook-0.1.0-py3-none-any.whl"
    assert all("==" in line for line in lines[:-1]), "every package is pinned"
    assert not [line for line in lines if line.startswith(BOOK_ONLY)], "no book-building tool for learners"


def test_learner_requirements_refuse_a_dependency_without_a_pin(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["numpy>=2", "foo-bar>=1"]\n')
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\nipykernel==7.4.0\nfoo_bar>=1\n")
    (tmp_path / "requirements-lab.txt").write_text("jupyterlab==4.6.6\n")
    with pytest.raises(ValueError, match="foo-bar"):
        downloads.learner_requirements(tmp_path, "x.whl")
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\nipykernel==7.4.0\nFoo.Bar==1.2  # pinned\n")
    assert "Foo.Bar==1.2" in downloads.learner_requirements(tmp_path, "x.whl").splitlines()
    (tmp_path / "requirements-lab.txt").write_text("jupyterlab\n")
    with pytest.raises(ValueError, match="JupyterLab"):
        downloads.learner_requirements(tmp_path, "x.whl")


@pytest.mark.parametrize("md", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_notebook_becomes_an_ipynb_with_the_same_cells_and_no_outputs(md):
    nb = nbformat.reads(downloads.to_ipynb(md), as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert "text_representation" not in nb.metadata.get("jupytext", {})
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    ids = [m for c in code for m in re.findall(r'check\("([^"]+)"', c.source)]
    assert ids == answer_ids(md.read_text()) and ids
    assert downloads.to_ipynb(md) == downloads.to_ipynb(md), "the same notebook gives the same file"


def test_an_archive_is_one_folder_written_whole(tmp_path):
    path = downloads.write_archive(tmp_path / "a" / "x.zip", "x", {"b.txt": b"B", "a.txt": b"A"})
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["x/b.txt", "x/a.txt"] and zf.read("x/a.txt") == b"A"
    again = downloads.write_archive(tmp_path / "x2.zip", "x", {"b.txt": b"B", "a.txt": b"A"})
    assert again.read_bytes() == path.read_bytes()
    assert not list(tmp_path.rglob("*.tmp"))


def test_the_readme_gives_the_two_commands_and_names_each_notebook():
    text = downloads.readme({"ex2_hessian.ipynb": "Graded exercises: The Hessian"}, "Graded exercises: The Hessian")
    assert "\n".join(downloads.SETUP) in text and "\n".join(downloads.SETUP_WINDOWS) in text
    assert "`ex2_hessian.ipynb`: Graded exercises: The Hessian" in text
    assert downloads.title(ROOT / "exercises" / "ex2_hessian.md").startswith("Graded exercises:")


def test_the_repository_readme_gives_the_same_two_commands():
    readme = (ROOT / "README.md").read_text()
    for command in downloads.SETUP:
        assert command in readme


# --------------------------------------------------------------------------- the built site

def _archive(site: Path, name: str) -> zipfile.ZipFile:
    path = site / downloads.DOWNLOADS / f"{name}.zip"
    assert path.is_file(), f"{path} missing: `make book` makes it"
    return zipfile.ZipFile(path)


@pytest.mark.parametrize("name", ARCHIVES)
def test_the_site_serves_each_archive_with_notebooks_wheel_requirements_and_readme(site, name):
    with _archive(site, name) as zf:
        names = zf.namelist()
        assert {n.split("/")[0] for n in names} == {name}, "one folder, named after the archive"
        files = {n.split("/", 1)[1] for n in names}
        wheels = [f for f in files if f.endswith(".whl")]
        notebooks = sorted(f for f in files if f.endswith(".ipynb"))
        expected = [f"{md.stem}.ipynb" for md in NOTEBOOKS if name in (md.stem, downloads.COURSE_ARCHIVE)]
        assert notebooks == expected
        assert files == {*notebooks, *wheels, "requirements.txt", "README.md"} and len(wheels) == 1
        requirements = zf.read(f"{name}/requirements.txt").decode()
        assert requirements.splitlines()[-1] == f"./{wheels[0]}"
        readme = zf.read(f"{name}/README.md").decode()
        assert all(command in readme for command in downloads.SETUP) and all(n in readme for n in notebooks)
        for nb in notebooks:
            stem = nb.removesuffix(".ipynb")
            assert zf.read(f"{name}/{nb}").decode() == downloads.to_ipynb(ROOT / "exercises" / f"{stem}.md")


def test_the_wheel_in_the_archives_is_this_checkout_with_its_answer_key(site):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with _archive(site, downloads.COURSE_ARCHIVE) as zf:
        wheel_name = next(n for n in zf.namelist() if n.endswith(".whl"))
        assert wheel_name.endswith(f"softmaxbook-{version}-py3-none-any.whl")
        import io
        with zipfile.ZipFile(io.BytesIO(zf.read(wheel_name))) as wheel:
            inside = set(wheel.namelist())
    for path in (ROOT / "softmaxbook").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".toml", ".js") and "__pycache__" not in path.parts:
            assert path.relative_to(ROOT).as_posix() in inside, path


# --------------------------------------------------------------------------- the learner's path

def _solved(ipynb: Path) -> list[str]:
    """Fill every answer cell of an archive's notebook with the key's right answer (as the
    shipped notebook names it); append a cell that reports where the kernel runs from."""
    nb = nbformat.read(ipynb, as_version=4)
    ids = []
    for cell in nb.cells:
        found = re.findall(r'check\("([^"]+)"', cell.source) if cell.cell_type == "code" else []
        if len(found) == 1:
            cell.source = SOLVED[found[0]]
            ids.append(found[0])
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json, sys, softmaxbook\nfrom softmaxbook.grader import jail, sandbox\n"
        "print(json.dumps({'prefix': sys.prefix, 'package': softmaxbook.__file__, 'jail': jail.available(),\n"
        "                  'hidden': sandbox._course_package_dirs()}))"))
    nbformat.write(nb, ipynb)
    return ids


@pytest.mark.slow
def test_the_course_archive_installs_alone_and_a_solved_notebook_gets_full_marks(site, tmp_path):
    from softmaxbook.grader import jail

    home = tmp_path / "learner"
    home.mkdir()
    with _archive(site, downloads.COURSE_ARCHIVE) as zf:
        zf.extractall(home)
    folder = home / downloads.COURSE_ARCHIVE
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env.update(SOFTMAXBOOK_PROGRESS=str(tmp_path / "progress.json"), JUPYTER_DATA_DIR=str(tmp_path / "jdata"),
               JUPYTER_CONFIG_DIR=str(tmp_path / "jconfig"), JUPYTER_RUNTIME_DIR=str(tmp_path / "jrun"),
               PATH=os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if str(ROOT) not in p))
    setup = subprocess.run(["bash", "-c", downloads.SETUP[0]], cwd=folder, env=env,
                           capture_output=True, text=True, timeout=1800)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    venv = folder / ".venv"
    lab = subprocess.run([str(venv / "bin" / "jupyter"), "lab", "--version"], cwd=folder, env=env,
                         capture_output=True, text=True, timeout=120)
    assert lab.returncode == 0 and lab.stdout.strip().startswith("4."), lab.stdout + lab.stderr

    expected = []
    for md in NOTEBOOKS:
        ipynb = folder / f"{md.stem}.ipynb"
        expected += _solved(ipynb)
        run = subprocess.run([str(venv / "bin" / "jupyter"), "execute", "--inplace", "--timeout=300", ipynb.name],
                             cwd=folder, env=env, capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, f"{ipynb.name}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
        last = nbformat.read(ipynb, as_version=4).cells[-1]
        where = json.loads("".join(o.get("text", "") for o in last.outputs if o.output_type == "stream"))
        assert Path(where["prefix"]) == venv, "the kernel is the archive's environment"
        assert Path(where["package"]).is_relative_to(venv / "lib"), "softmaxbook comes from the wheel, not the repository"
        assert where["jail"] == jail.available(), "function answers are jailed when bubblewrap works here"
        assert where["hidden"] == [str(Path(where["package"]).resolve().parent)], "the jail sees the installed package empty"
    progress = json.loads((tmp_path / "progress.json").read_text())
    assert sorted(progress) == sorted(expected) == sorted(SOLVED)
    assert {i: (r["score"], r["passed"]) for i, r in progress.items()} == {i: (1.0, True) for i in expected}
