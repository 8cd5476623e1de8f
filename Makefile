# Two set-up-free commands: `make run` serves the app, `make test` runs every test.
# Both create .venv (Python 3.12, from .python-version) and install the project when needed.

VENV    := .venv
PY      := $(VENV)/bin/python
PORT    ?= 8765

.PHONY: run test lint bench clean

$(PY):
	@python3 -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 12) else "Python 3.12 or newer is needed (see .python-version)")'
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev,geo,cluster,discover]'
	touch $@ $(VENV)/.installed

# The app at http://localhost:$(PORT): all assets served locally (works offline), no browser
# opened, no version check or telemetry calls.
run: $(VENV)/.installed
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=False $(VENV)/bin/solara run app.py --host localhost \
		--port $(PORT) --production --no-open --no-check-version

# Browser tests drive Debian's chromium (installed with apt when missing; skipped if impossible).
test: $(VENV)/.installed-dev
	.ci/install-chromium
	$(PY) -m pytest -W error::FutureWarning

bench: $(VENV)/.installed
	$(VENV)/bin/abm bench

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check abm tests app.py notebooks

clean:
	rm -rf $(VENV)
