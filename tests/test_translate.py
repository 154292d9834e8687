"""Translated exercise notebooks (softmaxbook.translate), proved on a fixture notebook.

The fixture (tests/fixtures/i18n/) is an exercise-like notebook and its catalogue. Its
translation keeps every code cell, translates every block of prose, says its language in
its metadata, and a kernel running it shows the package's output in that language. The
blocks are looked up exactly as Sphinx's gettext builder extracts them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
import yaml
from babel.messages.pofile import read_po

from conftest import ROOT
from softmaxbook import translate

FIXTURE = ROOT / "tests" / "fixtures" / "i18n"
NOTEBOOK = FIXTURE / "exercises" / "ex0_fixture.md"
PO = translate.catalogue_path(FIXTURE, "exercises/ex0_fixture", "zh_CN")


@pytest.fixture
def translated(tmp_path) -> Path:
    target = tmp_path / "zh_CN" / NOTEBOOK.name
    assert translate.write_translation(NOTEBOOK, PO, "zh_CN", target) == []
    return target


def test_code_cells_are_kept_and_every_markdown_block_is_translated(translated):
    source = jupytext.read(NOTEBOOK, fmt="md:myst")
    result = jupytext.read(translated, fmt="md:myst")
    assert [c.cell_type for c in result.cells] == [c.cell_type for c in source.cells]
    assert [c.source for c in result.cells if c.cell_type == "code"] == \
        [c.source for c in source.cells if c.cell_type == "code"]
    assert result.metadata["softmaxbook"] == {"language": "zh_CN"}
    assert result.metadata["kernelspec"]["name"] == "python3"
    text = "\n".join(c.source for c in result.cells if c.cell_type == "markdown")
    for kept in ["(ex0)=", "$$\nA(\\theta) = \\log \\sum_k e^{\\theta_k}\n$$", ":::{admonition} 开始之前", "|---|---|"]:
        assert kept in text, kept
    for chinese in ["# 评分练习：一个测试样例", "## 1. 对数配分函数", "- 写成$\\theta_1, \\theta_2, \\theta_3$的表达式；",
                    "- 不含基测度的常数。", "反馈中从不出现答案。", "| 得分 | 通过的测试所占的比例 |"]:
        assert chinese in text, chinese
    prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\(ex0\)=|\{admonition\}", "", text, flags=re.S)
    assert not re.search(r"[A-Za-z]{3,}(?: [A-Za-z]{2,}){2,}", prose), prose


def test_a_raw_html_block_is_kept_as_it_is(translated):
    """Sphinx does not extract raw HTML (a practice check's ``<div>``): no catalogue has it."""
    assert '<div class="practice-check" data-id="ch1.fixture"></div>' in translated.read_text(encoding="utf-8")


def test_a_directive_whose_argument_is_not_prose_keeps_it():
    text = "```{only} course_home\nThe rocket icon.\n```\n"
    translated, missing = translate.translate_markdown(text, {"The rocket icon.": "火箭图标。"})
    assert missing == [] and translated == "```{only} course_home\n火箭图标。\n```\n"


def test_missing_or_fuzzy_blocks_are_reported_and_nothing_is_written(tmp_path):
    po = tmp_path / "ex0.po"
    po.write_text(PO.read_text(encoding="utf-8").replace('msgid "meaning"', '#, fuzzy\nmsgid "meaning"')
                  .replace('msgid "The answer never appears in the feedback."', 'msgid "Something else."'),
                  encoding="utf-8")
    target = tmp_path / "out.md"
    missing = translate.write_translation(NOTEBOOK, po, "zh_CN", target)
    assert missing == ["The answer never appears in the feedback.", "meaning"] and not target.exists()


def test_the_cli_writes_beside_the_source_and_fails_on_an_incomplete_catalogue(tmp_path, capsys):
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    source = book / "exercises" / NOTEBOOK.name
    assert translate.main([str(source), "-l", "zh_CN", "--root", str(book)]) == 0
    assert (book / "exercises" / "zh_CN" / NOTEBOOK.name).is_file()
    po = translate.catalogue_path(book, "exercises/ex0_fixture", "zh_CN")
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "含义"', 'msgstr ""'), encoding="utf-8")
    assert translate.main([str(source), "-l", "zh_CN", "--root", str(book)]) == 1
    assert "1 block(s) not translated" in capsys.readouterr().err
    assert translate.main([str(source), "-l", "zh_CN", "--root", str(book), "--complete-only"]) == 0


def test_the_blocks_are_the_messages_sphinx_extracts(tmp_path):
    """The lookup keys are Sphinx's msgids: the gettext builder on the fixture gives the same set."""
    book = tmp_path / "book"
    (book / "exercises").mkdir(parents=True)
    shutil.copy(NOTEBOOK, book / "exercises")
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    config["execute"]["execute_notebooks"] = "off"
    config.pop("bibtex_bibfiles", None)
    (book / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    (book / "_toc.yml").write_text("format: jb-book\nroot: exercises/ex0_fixture\n")
    jb = Path(sys.executable).with_name("jupyter-book")
    done = subprocess.run([str(jb), "build", str(book), "--builder", "custom", "--custom-builder", "gettext"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with (book / "_build" / "gettext" / "exercises" / "ex0_fixture.pot").open("rb") as f:
        extracted = {m.id for m in read_po(f) if m.id}
    with PO.open("rb") as f:
        assert extracted == {m.id for m in read_po(f) if m.id}


def test_a_kernel_running_the_translated_notebook_speaks_its_language(translated):
    """As in JupyterLab: the server gives the kernel the notebook's path (JPY_SESSION_NAME)."""
    from nbclient import NotebookClient

    notebook = jupytext.read(translated, fmt="md:myst")
    env = {k: v for k, v in os.environ.items() if k != "SOFTMAXBOOK_LANG"}
    env["JPY_SESSION_NAME"] = str(translated)
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(translated.parent)}})
    client.km = client.create_kernel_manager()
    client.start_new_kernel(env=env)
    try:
        client.start_new_kernel_client()
        client.execute(cleanup_kc=False)
    finally:
        client._cleanup_kernel()
    last = notebook.cells[-1].outputs
    assert last[0]["text"].strip() == "zh_CN"
    html = next(o for o in last if o["output_type"] == "execute_result")["data"]["text/html"]
    assert "<td>是</td>" in html
    nbformat.validate(notebook)


def test_binder_postbuild_makes_the_chinese_notebooks_of_complete_catalogues(tmp_path):
    """The postBuild line, run in a copy of the fixture book: the complete one is written."""
    line = next(l for l in (ROOT / "postBuild").read_text().splitlines() if "softmaxbook.translate" in l)
    book = tmp_path / "book"
    shutil.copytree(FIXTURE, book)
    (book / "exercises" / "ex9_untranslated.md").write_text(NOTEBOOK.read_text(encoding="utf-8"))
    done = subprocess.run(line.replace("python", sys.executable, 1), shell=True, cwd=book,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (book / "exercises" / "zh_CN").iterdir()) == [NOTEBOOK.name]
    assert "ex9_untranslated.md: no catalogue" in done.stderr
