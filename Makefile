# Every target creates/uses the local virtualenv itself: a fresh machine needs only Python 3.11.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo serve test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## make demo: simulator + example partner + seeded workspaces (state in pcsim.db)
demo: install
	$(BIN)/pcsim demo

## make test: the whole test suite
test: install
	$(BIN)/python -m pytest -q

## make bench: speed and memory targets
bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
