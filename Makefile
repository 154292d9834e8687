# Two commands for a fresh machine (see README.md):
#   make book   build the website into _build/html (creates .venv from requirements.txt),
#               the Chinese edition into _build/html/zh_CN, the exercise archives into
#               _build/html/downloads
#   make test   run every test: unit, notebooks, strict book build, fresh-env (Binder and a
#               downloaded exercise archive), browser
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SITE   := _build/html
PIP    := $(BIN)/python -m pip --disable-pip-version-check --quiet

# The translated editions (language codes of locales/): each is built from the same
# sources with the notebooks' cached outputs, into _build/<lang>/ then $(SITE)/<lang>/.
LANGS  := zh_CN

.PHONY: book test serve lab chromium bubblewrap fonts translations clean help

help:
	@echo "make book   build the website into $(SITE) (sets up $(VENV) from requirements.txt)"
	@echo "make translations  update locales/ and softmaxbook/locales/ from the English text (see README)"
	@echo "make test   run every test (installs test tools, Debian's chromium and bubblewrap if missing)"
	@echo "make serve  serve $(SITE) on http://127.0.0.1:8000"
	@echo "make lab    open the course in JupyterLab (installs it into $(VENV))"

# The virtual environment is rebuilt only when the pinned requirements change.
$(BIN)/.requirements.stamp: requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements.txt
	@touch $@

$(BIN)/.requirements-test.stamp: $(BIN)/.requirements.stamp requirements-test.txt
	$(PIP) install -r requirements-test.txt
	@touch $@

# Notebook outputs depend on the package too (and the practice checks of the exercise pages
# on the answer key, key/*.toml): when softmaxbook/ changes, the cached executions (and the
# doctrees that hold their outputs) are dropped, so every notebook runs again with the new code. An unchanged book rebuilds from the cache in seconds.
PKG_FILES := $(shell find softmaxbook -name '*.py' -o -name '*.js' -o -name '*.toml')
_build/.package.stamp: $(PKG_FILES)
	@if [ -d _build/.jupyter_cache ]; then \
	  echo "softmaxbook/ changed since the last build: re-executing every notebook"; \
	  rm -rf _build/.jupyter_cache _build/.doctrees _build/jupyter_execute $(addprefix _build/,$(LANGS)); fi
	@mkdir -p _build && touch $@

# The notebooks run once, in the English build, with SOFTMAXBOOK_LANG=all: what they show
# carries every language (softmaxbook/i18n.py), and each edition keeps its own. The
# translated editions read the same sources with language=<lang> and the cached outputs
# (no notebook runs again), then are copied into the site ($(SITE)/<lang>/).
BOOK_ENV := SOFTMAXBOOK_PROGRESS=$(CURDIR)/_build/.progress.json SOFTMAXBOOK_LANG=all

book: $(BIN)/.requirements.stamp _build/.package.stamp fonts $(SITE)/downloads/.stamp
	$(BOOK_ENV) $(BIN)/jupyter-book build . -W -n --keep-going
	$(BOOK_ENV) $(BIN)/python -m softmaxbook.editions $(LANGS)
	@echo
	@echo "Website built: $(CURDIR)/$(SITE)/index.html, translated: $(foreach l,$(LANGS),$(SITE)/$(l)/)  (make serve to browse it)"

# The translation loop (README, "Translating the course"): messages of every page
# (_build/gettext-book/_build/gettext/*.pot, from the notebooks' cached outputs) and of
# the package's _() calls (_build/gettext-package/) are merged into the catalogues of each
# language (new entries empty, changed ones fuzzy); the package's .mo files are compiled
# for Python's gettext. Prints what is left to do.
translations: $(BIN)/.requirements-test.stamp
	$(BIN)/python -m softmaxbook.editions --messages
	$(BIN)/sphinx-intl update -p _build/gettext-book/_build/gettext -d locales $(addprefix -l ,$(LANGS))
	@mkdir -p _build/gettext-package
	$(BIN)/pybabel extract -F softmaxbook/locales/babel.cfg --no-location --sort-output \
	  --no-default-keywords -k _ -k N_ --project softmaxbook \
	  -o _build/gettext-package/softmaxbook.pot softmaxbook
	$(BIN)/sphinx-intl update -p _build/gettext-package -d softmaxbook/locales $(addprefix -l ,$(LANGS))
	$(BIN)/sphinx-intl build -d softmaxbook/locales
	@$(BIN)/sphinx-intl stat -d locales || true            # exits 1 while a page is pending
	@$(BIN)/sphinx-intl stat -d softmaxbook/locales || true

# The exercise archives of the website (softmaxbook/downloads.py): each assignment's
# notebook as .ipynb, a wheel of the package, pinned requirements and a README, as zips in
# $(SITE)/downloads. Made again only when what goes into them changes.
DOWNLOAD_INPUTS := $(shell find softmaxbook -type f -not -path '*/__pycache__/*') \
  $(wildcard exercises/ex*.md) requirements.txt requirements-lab.txt pyproject.toml README.md LICENSE
$(SITE)/downloads/.stamp: $(BIN)/.requirements.stamp $(DOWNLOAD_INPUTS)
	$(BIN)/python -m softmaxbook.downloads $(SITE)
	@touch $@

# Browser tests drive Debian's chromium; install it when it is missing (needs root).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The batch grader runs each submitted notebook in a bubblewrap sandbox (bwrap); install
# Debian's bubblewrap when it is missing (needs root), like chromium.
bubblewrap:
	@command -v bwrap >/dev/null 2>&1 || { \
	  echo "Installing Debian's bubblewrap for the grader's sandbox..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; }

# Chinese text in matplotlib figures needs a CJK font: Debian's fonts-noto-cjk, installed
# when missing (needs root), like chromium.
fonts:
	@test -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc || { \
	  echo "Installing Debian's fonts-noto-cjk for Chinese text in figures..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; }

# The strict book build runs first (any warning or failing notebook stops here),
# then pytest; pytest exits 5 (non-zero) when it collects no test.
test: $(BIN)/.requirements-test.stamp chromium bubblewrap book
	$(BIN)/python -m pytest

serve:
	$(BIN)/python -m http.server --directory $(SITE) --bind 127.0.0.1 8000

lab: $(BIN)/.requirements.stamp
	$(PIP) install -r requirements-lab.txt
	$(BIN)/jupytext-config set-default-viewer markdown
	$(BIN)/jupyter lab

clean:
	rm -rf _build
