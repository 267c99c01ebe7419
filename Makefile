# needgraph: every install and run step lives here, so a clean clone needs only `make demo` / `make test`.
#
# The virtual environment lives outside the clone (NEEDGRAPH_CACHE, default ~/.cache/needgraph) so
# that fresh clones and CI reuse the multi-GB torch install instead of reinstalling it. It is
# synced to requirements.lock with uv only when the lock (or this checkout's path) changed.

SHELL := /bin/bash
PYTHON ?= python3
NEEDGRAPH_CACHE ?= $(HOME)/.cache/needgraph
VENV ?= $(NEEDGRAPH_CACHE)/venv
UV_VERSION := 0.13.8
UV := $(NEEDGRAPH_CACHE)/uv-$(UV_VERSION)/bin/uv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.needgraph-$(shell cat requirements.lock pyproject.toml | sha256sum | cut -c1-16)-$(shell pwd | sha256sum | cut -c1-8)
DEMO_STORE ?= sqlite:///needgraph-data/demo.db
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export NEEDGRAPH_CACHE

.PHONY: help venv demo test lint typecheck unit neo4j-start neo4j-stop lock bench clean strip-notebooks

help:
	@echo "make demo         set up, then run the main job end to end on the embedded store"
	@echo "make test         set up, start a real Neo4j, run lint, types and all tests, stop Neo4j"
	@echo "make neo4j-start  start Neo4j 5.26 on a free loopback port (source .neo4j/env after)"
	@echo "make neo4j-stop   stop it and remove its data"
	@echo "make lock         re-resolve requirements.lock from pyproject.toml"
	@echo "make strip-notebooks  remove outputs from notebooks/*.ipynb before committing"

$(UV):
	@echo ">> installing uv $(UV_VERSION) into $(NEEDGRAPH_CACHE)"
	@$(PYTHON) -m venv $(NEEDGRAPH_CACHE)/uv-$(UV_VERSION)
	@$(NEEDGRAPH_CACHE)/uv-$(UV_VERSION)/bin/pip install -q "uv==$(UV_VERSION)"

$(STAMP): requirements.lock pyproject.toml | $(UV)
	@test -x $(PY) || { echo ">> creating $(VENV)"; $(UV) venv -q --python $(PYTHON) $(VENV); }
	@echo ">> syncing $(VENV) with requirements.lock (first run downloads torch, several GB)"
	@$(UV) pip sync -q --python $(PY) requirements.lock
	@$(UV) pip install -q --python $(PY) --no-deps -e .
	@rm -f $(VENV)/.needgraph-*
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	@NEEDGRAPH_STORE=$(DEMO_STORE) NEEDGRAPH_VENV=$(VENV) bash scripts/demo.sh

test: venv
	@VENV=$(VENV) bash scripts/run_tests.sh

lint: venv
	@$(VENV)/bin/ruff check needgraph tests bench scripts

typecheck: venv
	@$(VENV)/bin/mypy

neo4j-start:
	@$(PYTHON) scripts/neo4j_server.py start

neo4j-stop:
	@$(PYTHON) scripts/neo4j_server.py stop

lock: | $(UV)
	@$(UV) pip compile -q pyproject.toml --all-extras -o requirements.lock --python-version 3.11

clean:
	rm -rf needgraph-data .pytest_cache .mypy_cache .ruff_cache

strip-notebooks: venv
	@$(VENV)/bin/nbstripout notebooks/*.ipynb
