# The two commands of the README. Both set up (or reuse) .venv first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
JOBS   ?= auto

.PHONY: setup test run doctor clean

setup:
	@bash scripts/setup.sh

## make test: the project's own tests (CI runs this; well under 30 minutes on 2 cores)
test: setup
	$(PY) -m pytest tests -n $(JOBS) -q -m "not slow"

## make run: the nightly job on the default NPU config, reports written
run: setup
	$(VENV)/bin/npusim nightly

doctor: setup
	$(VENV)/bin/npusim doctor

clean:
	rm -rf .npusim-cache .stamps build
