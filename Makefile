# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates or updates the virtualenv in .venv by itself.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.tocsin-installed

.PHONY: demo test check bench clean system-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	scripts/system-deps

demo: system-deps $(STAMP)
	$(VENV)/bin/tocsin demo

test: system-deps $(STAMP)
	scripts/check

check: test

bench: $(STAMP)
	$(VENV)/bin/python -m bench.modem_raw --quick

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
