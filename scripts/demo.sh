#!/usr/bin/env bash
# The main job, end to end on the embedded store (no server): ontology -> synthetic operator data ->
# ingest -> graph stats -> (model, predictions, explanations, recommendations when available).
# Run through `make demo`, which sets up the environment first.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${NEEDGRAPH_VENV:?run through make demo}
export PATH="$VENV/bin:$PATH"
export NEEDGRAPH_STORE=${NEEDGRAPH_STORE:-sqlite:///needgraph-data/demo.db}
export NEEDGRAPH_ONTOLOGY=${NEEDGRAPH_ONTOLOGY:-ontology}
CUSTOMERS=${DEMO_CUSTOMERS:-10000}
SEED=${DEMO_SEED:-7}
DATA=needgraph-data/demo-data
step() { printf '\n\033[1m== %s ==\033[0m\n' "$*"; }

step "fresh embedded store: ${NEEDGRAPH_STORE}"
rm -f "${NEEDGRAPH_STORE#sqlite:///}"{,-wal,-shm}

step "validate and load the curated ontology"
needgraph ontology validate
needgraph ontology load --who demo --why "make demo"

step "generate ${CUSTOMERS} customers with planted ground truth (seed ${SEED})"
needgraph generate --customers "$CUSTOMERS" --seed "$SEED" --out "$DATA"

step "ingest tags, texts (zh/en), offers and satisfaction labels"
needgraph ingest "$DATA" --report-dir needgraph-data/demo-reports

step "the cognitive graph"
needgraph stats
