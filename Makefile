# The two commands a newcomer needs: `make run` and `make test`. Both set up everything themselves.
# The interpreter of the virtual environment: the distribution's own /usr/bin/python3 when it is 3.11 or later
# and can make one (Debian's is built with optimisations and its libpython linked in: countnight ran 12-20%
# faster on it than on a python3 built from source with the defaults), else the first python3 on PATH.
# `make PYTHON=...` chooses another; `make clean` first, as the environment is made once.
PYTHON ?= $(shell /usr/bin/python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && echo /usr/bin/python3 || echo python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8000
# The exact version of every package `make` installs, with its hashes: made by uv from pyproject.toml's ranges
# and requirements-build.in (pip and setuptools). `make lock` after changing a range; `make upgrade` on purpose.
LOCK   := requirements.lock
UV     := uv==0.13.9
LOCK_ARGS := pyproject.toml requirements-build.in --extra test --universal --python-version 3.11 --generate-hashes --quiet

.PHONY: run test lint golden system-packages compiled clean lock upgrade jinja-suite check-web

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	touch $@

## uv makes the lock; it needs only a virtual environment, not the project installed (whose lock may be the
## very thing out of date)
$(VENV)/bin/uv:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(UV)

## lock: resolve requirements.lock again after a change to pyproject.toml, keeping every pin that still fits
lock: $(VENV)/bin/uv
	$(VENV)/bin/uv pip compile $(LOCK_ARGS) -o $(LOCK)

## upgrade: every package to its newest release within pyproject.toml's ranges, then the whole suite. The tests
## that prove countnight equal to a library (the link scan, the YAML line reader, Jinja's output) say what changed.
upgrade: $(VENV)/bin/uv
	$(VENV)/bin/uv pip compile --upgrade $(LOCK_ARGS) -o $(LOCK)
	git diff --stat -- $(LOCK)
	$(MAKE) test

## compiled: bytecode for src/ and the default theme's templates, as an installed package has them. An editable
## install has none of its own, and with PYTHONDONTWRITEBYTECODE set every countnight process (the tests start
## many) would compile ~8,000 lines of Python and 18 templates again (~0.2 s a start).
compiled: $(VENV)/.installed
	$(PY) -m compileall -q src templates
	$(PY) -c 'from countnight.render import compile_default_theme; compile_default_theme()'

## run: the sample night arriving live at http://127.0.0.1:$(PORT): its entries dropped one by one, on a
## compressed clock, into a scratch folder that is watched and served (the sample folder is only read)
run: compiled
	$(VENV)/bin/countnight demo --root . --port $(PORT)

## system-packages: Debian's chromium and nginx for the browser tests, jing and trang for the Atom schema check,
## Java for those and the Nu Html Checker (apt-get, once)
system-packages:
	@bash scripts/system-packages.sh

## node_modules: axe-core and pa11y for the accessibility tests, vnu-jar and Lighthouse for check-web, pinned in
## package-lock.json. Puppeteer (pa11y's) downloads no browser of its own: everything drives Debian's chromium.
node_modules/.package-lock.json: package.json package-lock.json | system-packages
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: lint, the import layers (contracts in pyproject.toml), Jinja's own tests with our code generator,
## then every test, browser tests included
test: compiled system-packages node_modules/.package-lock.json
	$(PY) -m ruff check --quiet
	$(PY) -m ruff format --check --quiet
	$(VENV)/bin/lint-imports --no-cache --no-logo
	$(MAKE) --no-print-directory jinja-suite
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

## check-web: the Nu Html Checker on every kind of page (the sample night and the national replay) and Lighthouse 12
## (mobile) on the national replay's index.html and results.html, served by nginx on loopback. Prints the figures;
## fails on any Nu error or a Lighthouse category below 95. Minutes long, so not part of `make test`.
check-web: compiled system-packages node_modules/.package-lock.json
	$(PY) scripts/check_web.py

## jinja-suite: Jinja's own test suite, from the sdist of the installed jinja2 (downloaded once into the virtual
## environment), run with countnight's code generator (render.py) in place of Jinja's: it overrides private
## methods, so pyproject.toml pins jinja2 and this says whether another release still works with it.
## tests/jinja_suite/countnight_generator.py lists the differences expected, and why each is harmless.
JINJA_SUITE := $(VENV)/jinja-suite
jinja-suite: compiled
	@version=$$($(PY) -c 'import importlib.metadata as m; print(m.version("jinja2"))'); \
	folder=$(JINJA_SUITE)/jinja2-$$version; \
	if [ ! -d $$folder/tests ]; then \
		$(PY) -m pip download --quiet --no-binary :all: --no-deps --dest $(JINJA_SUITE) "jinja2==$$version" && \
		tar -xzf $(JINJA_SUITE)/[jJ]inja2-$$version.tar.gz -C $(JINJA_SUITE) && \
		if [ -d $(JINJA_SUITE)/Jinja2-$$version ]; then mv $(JINJA_SUITE)/Jinja2-$$version $$folder; fi; \
	fi; \
	cd $$folder && PYTHONPATH=$(CURDIR)/tests/jinja_suite $(CURDIR)/$(PY) -m pytest -q -p no:cacheprovider \
		-p countnight_generator tests

## golden: regenerate tests/golden on purpose after a deliberate change to the output
golden: $(VENV)/.installed
	COUNTNIGHT_REGENERATE_GOLDEN=1 $(PY) -m pytest -q tests/test_golden.py

clean:
	rm -rf $(VENV) site .countnight node_modules test-artifacts
