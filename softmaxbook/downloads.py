"""The website's downloadable exercise archives: ``python -m softmaxbook.downloads SITE``.

``make book`` runs it after the build. It writes into ``SITE/downloads/`` one zip per
assignment (``exercises/exN_<name>.md`` → ``exN_<name>.zip``) and one for the whole course
(:data:`COURSE_ARCHIVE`), each holding one folder with

* the exercise notebook(s) as ``.ipynb`` (converted with jupytext, no outputs),
* a wheel of this package, built from this checkout,
* ``requirements.txt``: the package's dependencies and what runs a notebook, pinned to the
  versions of the repository's ``requirements.txt`` (and JupyterLab, pinned in
  ``requirements-lab.txt``), plus the wheel itself; no book-building tools,
* ``README.md`` with the two commands that set it up and open it (:data:`SETUP`).

A learner needs nothing else from the repository, nor Binder or GitHub: Python 3.11 or
newer and PyPI, once. The how-to box of the website (:mod:`softmaxbook.sphinxext`) links to
these files by the names defined here.
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

#: Folder of the site (and URL path) that holds the archives.
DOWNLOADS = "downloads"

#: Name (without ``.zip``) of the archive with every assignment of the course.
COURSE_ARCHIVE = "softmax-deeply-exercises"

#: What runs a notebook, besides the package's own dependencies (``pyproject.toml``).
NOTEBOOK_RUNTIME = ("ipykernel",)

#: The two commands, run in the unpacked folder, that set it up and open it (Linux, macOS).
SETUP = ("python3 -m venv .venv && .venv/bin/pip install -r requirements.txt", ".venv/bin/jupyter lab")

#: The same on Windows (``py`` is the Python launcher; PowerShell 5 has no ``&&``).
SETUP_WINDOWS = ("py -m venv .venv", r".venv\Scripts\pip install -r requirements.txt", r".venv\Scripts\jupyter lab")

#: Files of the checkout that the wheel is built from.
WHEEL_SOURCES = ("pyproject.toml", "README.md", "LICENSE", "softmaxbook")

#: A fixed timestamp for every zip member: an unchanged checkout gives the same listing.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)

_ASSIGNMENT = re.compile(r"ex(\d+)_[A-Za-z0-9_]+")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s#;]+)")


def assignments(root: Path) -> list[Path]:
    """The assignment notebooks ``exercises/exN_<name>.md`` of the checkout, by number."""
    found = [p for p in Path(root, "exercises").glob("ex*.md") if _ASSIGNMENT.fullmatch(p.stem)]
    return sorted(found, key=lambda p: int(_ASSIGNMENT.fullmatch(p.stem).group(1)))


def assignment(root: Path, number: int) -> Path | None:
    """The notebook of assignment ``number`` (``exercises/exN_*.md``), or None."""
    return next((p for p in assignments(root) if p.stem.startswith(f"ex{number}_")), None)


def archive_url(name: str, docname: str) -> str:
    """The relative URL, from the page ``docname``, of the archive ``name`` (without ``.zip``)."""
    return "../" * docname.count("/") + f"{DOWNLOADS}/{name}.zip"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(requirements: str) -> dict[str, str]:
    """``{canonical name: "name==version"}`` of the exact pins in a requirements file's text."""
    out = {}
    for line in requirements.splitlines():
        m = _PIN.match(line)
        if m:
            out[_canonical(m.group(1))] = f"{m.group(1)}=={m.group(2)}"
    return out


def _dependency_names(pyproject: Path) -> list[str]:
    deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    return [re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", d).group(0) for d in deps]


def learner_requirements(root: Path, wheel: str) -> str:
    """The archive's ``requirements.txt``: the package's dependencies and :data:`NOTEBOOK_RUNTIME`
    at the versions pinned in ``requirements.txt``, the pins of ``requirements-lab.txt``
    (JupyterLab), then the wheel. A name without a pin there is an error (ValueError)."""
    root = Path(root)
    pinned = pins((root / "requirements.txt").read_text(encoding="utf-8"))
    names = [*_dependency_names(root / "pyproject.toml"), *NOTEBOOK_RUNTIME]
    missing = [n for n in names if _canonical(n) not in pinned]
    if missing:
        raise ValueError(f"requirements.txt pins no version of {', '.join(missing)}: pin it there")
    lab = list(pins((root / "requirements-lab.txt").read_text(encoding="utf-8")).values())
    if not lab:
        raise ValueError("requirements-lab.txt pins no JupyterLab version")
    lines = ["# What the exercise notebooks need, pinned (Python 3.11 or newer).",
             "# Install in this folder: pip install -r requirements.txt (see README.md)"]
    lines += sorted({pinned[_canonical(n)] for n in names}, key=str.lower) + lab
    lines += ["# the course package (softmaxbook), built from the course's repository", f"./{wheel}"]
    return "\n".join(lines) + "\n"


def to_ipynb(md: Path) -> str:
    """The MyST Markdown notebook ``md`` as ``.ipynb`` text: no outputs, cell ids numbered."""
    import jupytext

    nb = jupytext.read(md)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return jupytext.writes(nb, fmt="ipynb")


def build_wheel(root: Path, out: Path) -> Path:
    """A wheel of the package built from ``root`` (a copy of :data:`WHEEL_SOURCES`, so the
    checkout gets no ``build/`` folder), written to ``out``. Uses the setuptools of this
    Python, so it needs no network; raises RuntimeError with pip's output if it fails."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in WHEEL_SOURCES:
            path = Path(root) / name
            if path.is_dir():
                shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy(path, src / name)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--disable-pip-version-check", "--quiet", "--wheel-dir", str(Path(tmp) / "dist"), str(src)],
            capture_output=True, text=True, timeout=600)
        wheels = sorted((Path(tmp) / "dist").glob("softmaxbook-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise RuntimeError(f"building the softmaxbook wheel failed:\n{(done.stdout + done.stderr)[-3000:]}")
        target = out / wheels[0].name
        shutil.copy(wheels[0], target)
    return target


def title(md: Path) -> str:
    """The first ``# `` heading of a notebook (its title on the website)."""
    return next((line[2:].strip() for line in md.read_text(encoding="utf-8").splitlines()
                 if line.startswith("# ")), md.stem)


def readme(notebooks: dict[str, str], what: str) -> str:
    """The archive's README (``notebooks``: file name → title): what it holds and the two
    commands that set it up and open it."""
    listed = "\n".join(f"- `{name}`: {heading}" for name, heading in notebooks.items())
    posix = "\n".join(SETUP)
    windows = "\n".join(SETUP_WINDOWS)
    return f"""# Softmax, deeply — {what}

This folder holds graded exercise notebooks of the course

{listed}

with what runs them: the course package `softmaxbook` (the `.whl` file) and `requirements.txt`,
which pins every package the notebooks need. You need Python 3.11 or newer; the first command
downloads the packages from PyPI once.

## Two commands

In this folder, on Linux or macOS:

```bash
{posix}
```

On Windows:

```bat
{windows}
```

The first command makes a virtual environment in `.venv` and installs everything into it; the
second opens JupyterLab in your browser (run it again whenever you come back). Open a notebook,
write your answer in each task's cell and run the cell: `check(...)` says at once whether the
answer is right, gives a score and names the misconception behind a known wrong answer.
`progress()` lists what you have done, stored in `~/.softmaxbook/progress.json`.
"""


def write_archive(path: Path, folder: str, files: dict[str, bytes]) -> Path:
    """A zip at ``path`` holding ``files`` (name → bytes) in the folder ``folder``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    tmp = path.with_suffix(".zip.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)  # a half-written archive is never served
    return path


def build(root: Path, site: Path) -> list[Path]:
    """Write every archive into ``site/downloads``; returns their paths (course archive last)."""
    root, target = Path(root), Path(site) / DOWNLOADS
    notebooks = assignments(root)
    if not notebooks:
        raise ValueError(f"no assignment notebook exercises/exN_<name>.md under {root}")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(root, Path(tmp))
        common = {wheel.name: wheel.read_bytes(),
                  "requirements.txt": learner_requirements(root, wheel.name).encode()}
    ipynb = {f"{md.stem}.ipynb": to_ipynb(md).encode() for md in notebooks}
    titles = {f"{md.stem}.ipynb": title(md) for md in notebooks}
    written = []
    for md in notebooks:
        name = f"{md.stem}.ipynb"
        files = {name: ipynb[name], **common, "README.md": readme({name: titles[name]}, titles[name]).encode()}
        written.append(write_archive(target / f"{md.stem}.zip", md.stem, files))
    files = {**ipynb, **common, "README.md": readme(titles, "all graded exercises").encode()}
    written.append(write_archive(target / f"{COURSE_ARCHIVE}.zip", COURSE_ARCHIVE, files))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m softmaxbook.downloads", description=__doc__.split("\n")[0])
    parser.add_argument("site", type=Path, help="the built website (e.g. _build/html)")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the course's checkout (default: here)")
    args = parser.parse_args(argv)
    try:
        written = build(args.root, args.site)
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"downloads: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"downloads: {path} ({path.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
