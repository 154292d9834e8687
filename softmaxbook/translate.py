"""Translated notebooks: a page's catalogue applied to the Markdown cells of its notebook.

The website's editions are translated by Sphinx; a learner who opens an exercise in
Binder or downloads it gets the notebook itself. This module makes that notebook in
another language from the same source and the same catalogue
(``locales/<lang>/LC_MESSAGES/<page>.po``, made by ``make translations``):

* every Markdown cell is translated block by block (paragraphs, headings, list items,
  table cells, the titles and bodies of directives such as ``{note}``), looking each block
  up as Sphinx does (its source text with line breaks as spaces);
* code cells, code and math blocks, labels and front matter are left as they are;
* the notebook's metadata says its language, ``softmaxbook: {language: zh_CN}``, so that
  what the package shows in it (``check()``, ``progress()``, tables) is in that language
  (:mod:`softmaxbook.i18n` reads it through ``JPY_SESSION_NAME``).

A block missing from the catalogue (or fuzzy) is reported, and a notebook is written only
when none is. ``python -m softmaxbook.translate exercises/ex1_exponential_family.md -l zh_CN``
writes ``exercises/zh_CN/ex1_exponential_family.md`` (Binder's ``postBuild`` runs it for
every exercise whose catalogue is complete); the Chinese edition's download buttons offer
the same translation (:mod:`softmaxbook.editions`).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

__all__ = ["load_catalogue", "translate_markdown", "translate_notebook", "write_translation", "catalogue_path"]

_FENCE = re.compile(r"^(\s*)(`{3,}|~{3,}|:{3,})(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
_KEEP = re.compile(r"^\s*(\(.+\)=|<!--.*-->|\$\$.*|\+\+\+.*)\s*$")
#: A raw HTML block (e.g. a practice check's ``<div class="practice-check" ...></div>``):
#: Sphinx does not extract it for translation, so it is kept as it is.
_HTML_BLOCK = re.compile(r"^\s*</?[A-Za-z][\w-]*(\s|>|/>|$)")
#: Directives whose body is code or maths (kept), not prose (translated).
CODE_DIRECTIVES = {"code-cell", "code", "code-block", "math", "raw", "eval-rst", "glue:figure", "mermaid"}
#: Prose directives whose argument is not prose (``{only} course_home``: a tag expression;
#: ``{figure} path``: a file), kept as it is while their body is translated.
ARGUMENT_KEPT = {"only", "figure", "image", "include", "literalinclude", "glue", "glue:any", "bibliography"}


def catalogue_path(root: Path, page: str, lang: str) -> Path:
    """``root/locales/<lang>/LC_MESSAGES/<page>.po``."""
    return Path(root) / "locales" / lang / "LC_MESSAGES" / f"{page}.po"


def load_catalogue(po: Path) -> dict[str, str]:
    """{msgid: translation} of a ``.po`` file: translated, non-fuzzy messages only."""
    from babel.messages.pofile import read_po

    with Path(po).open("rb") as f:
        catalogue = read_po(f)
    return {m.id: m.string for m in catalogue if m.id and m.string and not m.fuzzy}


def _has_words(text: str) -> bool:
    return re.search(r"[A-Za-z\u4e00-\u9fff]{2,}", re.sub(r"\$[^$]*\$|`[^`]*`", "", text)) is not None


def _lookup(text: str, catalogue: dict, missing: list) -> str:
    key = " ".join(line.strip() for line in text.strip().splitlines())
    if key in catalogue:
        return catalogue[key]
    if _has_words(key):
        missing.append(key)
    return text.strip()


def _translate_block(lines: list[str], catalogue: dict, missing: list) -> list[str]:
    first = lines[0]
    if _KEEP.match(first) or _HTML_BLOCK.match(first):
        return lines
    heading = _HEADING.match(first)
    if heading and len(lines) == 1:
        return [f"{heading.group(1)} {_lookup(heading.group(2), catalogue, missing)}"]
    if first.lstrip().startswith("|"):  # a table: cell by cell, separator rows kept
        out = []
        for line in lines:
            cells = line.strip().strip("|").split("|")
            if all(re.fullmatch(r"\s*:?-+:?\s*", c) for c in cells):
                out.append(line)
            else:
                out.append("| " + " | ".join(_lookup(c, catalogue, missing) if c.strip() else c.strip()
                                             for c in cells) + " |")
        return out
    if _ITEM.match(first):  # list items, each with its indented continuation lines
        out, item = [], None
        for line in lines + [None]:
            match = _ITEM.match(line) if line is not None else None
            if line is None or match:
                if item is not None:
                    indent, marker, text = item
                    out.append(f"{indent}{marker} {_lookup(text, catalogue, missing)}")
                item = (match.group(1), match.group(2), match.group(3)) if match else None
            else:
                item = (item[0], item[1], item[2] + "\n" + line)
        return out
    return [_lookup("\n".join(lines), catalogue, missing)]


def translate_markdown(text: str, catalogue: dict) -> tuple[str, list[str]]:
    """``text`` (MyST Markdown) with its prose translated; and the blocks not in the catalogue."""
    missing: list[str] = []
    out: list[str] = []
    lines = text.split("\n")
    block: list[str] = []

    def flush():
        if block:
            out.extend(_translate_block(block, catalogue, missing))
            block.clear()

    k = 0
    while k < len(lines):
        line = lines[k]
        fence = _FENCE.match(line)
        if fence:
            flush()
            indent, mark, info = fence.groups()
            end = next((j for j in range(k + 1, len(lines))
                        if lines[j].strip().startswith(mark) and lines[j].strip().strip(mark[0]) == ""
                        and len(lines[j].strip()) >= len(mark)), len(lines))
            body = lines[k + 1:end]
            name = re.match(r"\{([^}]+)\}\s*(.*)", info.strip())
            if name and name.group(1) not in CODE_DIRECTIVES:  # a prose directive
                title = name.group(2).strip()
                if title and name.group(1) not in ARGUMENT_KEPT:
                    line = f"{indent}{mark}{{{name.group(1)}}} {_lookup(title, catalogue, missing)}"
                options = [b for b in body if re.match(r"^\s*:[\w-]+:", b)]
                rest = body[len(options):] if body[:len(options)] == options else body
                inner, inner_missing = translate_markdown("\n".join(rest), catalogue)
                missing.extend(inner_missing)
                body = options + inner.split("\n") if rest else options
            out.append(line)
            out.extend(body)
            if end < len(lines):
                out.append(lines[end])
            k = end + 1
            continue
        if line.strip() == "$$":  # display maths, kept to its closing $$
            flush()
            end = next((j for j in range(k + 1, len(lines)) if lines[j].strip().endswith("$$")), len(lines) - 1)
            out.extend(lines[k:end + 1])
            k = end + 1
            continue
        if not line.strip() or _KEEP.match(line) or _HEADING.match(line):  # a line of its own
            flush()
            out.extend(_translate_block([line], catalogue, missing) if line.strip() else [line])
        else:
            block.append(line)
        k += 1
    flush()
    return "\n".join(out), missing


def translate_notebook(notebook, catalogue: dict, lang: str):
    """A copy of ``notebook`` (nbformat) with Markdown cells translated and its language set.

    Returns ``(notebook, missing)``; code cells and their outputs are unchanged.
    """
    translated = copy.deepcopy(notebook)
    missing: list[str] = []
    for cell in translated.cells:
        if cell.cell_type == "markdown":
            cell.source, cell_missing = translate_markdown(cell.source, catalogue)
            missing.extend(cell_missing)
    translated.metadata.setdefault("softmaxbook", {})["language"] = lang
    # jupytext writes only the metadata its filter lets through: let the language through
    text_format = translated.metadata.get("jupytext")
    if isinstance(text_format, dict):
        kept = text_format.get("notebook_metadata_filter")
        if kept != "all" and "softmaxbook" not in str(kept or "").split(","):
            text_format["notebook_metadata_filter"] = ",".join(filter(None, [kept, "softmaxbook"]))
    return translated, missing


def write_translation(source: Path, po: Path, lang: str, target: Path) -> list[str]:
    """Write the translation of notebook ``source`` (``.md`` MyST or ``.ipynb``) to ``target``.

    Returns the blocks missing from the catalogue; nothing is written unless it is empty.
    """
    import jupytext

    source, target = Path(source), Path(target)
    fmt = "md:myst" if source.suffix == ".md" else None
    notebook = jupytext.read(source, fmt=fmt)
    translated, missing = translate_notebook(notebook, load_catalogue(po), lang)
    if not missing:
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(translated, target, fmt="md:myst" if target.suffix == ".md" else None)
    return missing


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m softmaxbook.translate", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="MyST (.md) notebooks of the book, e.g. exercises/ex1.md")
    parser.add_argument("-l", "--lang", required=True, help="language of the catalogues, e.g. zh_CN")
    parser.add_argument("--root", type=Path, default=Path("."), help="the book's folder (with locales/)")
    parser.add_argument("--complete-only", action="store_true",
                        help="skip, without failing, notebooks whose catalogue is missing or incomplete")
    args = parser.parse_args(argv)
    failed = 0
    for source in args.notebooks:
        page = source.resolve().relative_to(args.root.resolve()).with_suffix("").as_posix()
        po = catalogue_path(args.root, page, args.lang)
        target = source.parent / args.lang / source.name
        if not po.is_file():
            print(f"{source}: no catalogue {po}", file=sys.stderr)
            failed += not args.complete_only
            continue
        missing = write_translation(source, po, args.lang, target)
        if missing:
            print(f"{source}: {len(missing)} block(s) not translated in {po}, e.g. {missing[0][:100]!r}",
                  file=sys.stderr)
            failed += not args.complete_only
        else:
            print(f"{source} -> {target}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
