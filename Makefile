# The two commands of the README's Quick start, plus helpers. Everything sets itself up.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: test demo lint screenshots clean package bench soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## make test: set up the venv, then ruff, mypy, import-linter and the whole pytest suite
test: $(STAMP) lint
	tests/run-with-keyring.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check calendar_app tests packaging
	$(BIN)/mypy
	$(BIN)/lint-imports

## make demo: set up the venv and open the app against the built-in sandbox Exchange
demo: $(STAMP)
	$(BIN)/calendar-app --demo

## make package: build the Linux bundle (build/bundle/) and .deb (dist/); see packaging/README.md
PACKAGE_STAMP = $(VENV)/.package-installed
$(PACKAGE_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[package]'
	touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	PYTHON=$(BIN)/python packaging/build-linux.sh

## make screenshots: PNGs of every view and dialog under Xvfb into docs/screenshots (one view also at 200%;
## every set-up wizard page at 100% and 200%)
SCREENSHOTS ?= docs/screenshots
screenshots: $(STAMP)
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python tools/screenshots.py $(SCREENSHOTS)
	QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=2 xvfb-run -a -s "-screen 0 3200x2000x24" \
		$(BIN)/python tools/screenshots.py $(SCREENSHOTS) --only week --suffix @2x
	QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python tools/wizard_screenshots.py $(SCREENSHOTS)
	QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=2 xvfb-run -a -s "-screen 0 3200x2000x24" \
		$(BIN)/python tools/wizard_screenshots.py $(SCREENSHOTS) --suffix @2x

## make bench: sync, start-up, memory and view benchmarks on the sandbox (TLS + NTLM), each against a
## bare baseline; prints a table and writes bench-results.json (timings are reported, never asserted)
BENCH_STAMP = $(VENV)/.bench-installed
BENCH_ARGS ?=
$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	rm -f bench-results.json
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.bench.bench_sync --profile bench-profile.txt $(BENCH_ARGS)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m tests.bench.bench_report

## make soak: the reliability campaign (bounded): 100 kill trials, a 10-minute fault soak, the bad-input corpus
SOAK_KILL_TRIALS ?= 100
SOAK_MINUTES ?= 10
soak: $(STAMP)
	CALENDAR_APP_KILL_TRIALS=$(SOAK_KILL_TRIALS) $(BIN)/python -m pytest -q -s \
		tests/test_exchange_kill_sync.py
	$(BIN)/python -m tests.bench.soak_faults --minutes $(SOAK_MINUTES)
	tests/run-with-keyring.sh $(BIN)/python -m tests.bench.bad_input_corpus

clean:
	rm -rf $(VENV) bench-results.json bench-profile.txt .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info
