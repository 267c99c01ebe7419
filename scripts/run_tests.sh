#!/usr/bin/env bash
# Start a real Neo4j, run lint, type checks and the whole test suite, and stop Neo4j even on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:?VENV must point at the project virtualenv}
export PATH="$VENV/bin:$PATH"
# this checkout's package first (also inside notebook kernels), whatever the venv's editable points at
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export NEEDGRAPH_NEO4J_STATE=${NEEDGRAPH_NEO4J_STATE:-$PWD/.neo4j}

python3 scripts/neo4j_server.py start >/dev/null || { echo "Neo4j did not start" >&2; exit 1; }
trap 'python3 scripts/neo4j_server.py stop' EXIT
# shellcheck disable=SC1091
source "$NEEDGRAPH_NEO4J_STATE/env"

status=0
echo ">> ruff"; ruff check needgraph tests bench scripts || status=1
echo ">> mypy"; mypy || status=1
echo ">> pytest"
NEEDGRAPH_PROGRESS=0 python -m pytest -p no:cacheprovider "$@" || status=1
# Every notebook in notebooks/ runs top to bottom in a fresh kernel (nbmake); skipped when the
# caller picks tests (`bash scripts/run_tests.sh tests/x.py`) or sets NEEDGRAPH_SKIP_NOTEBOOKS=1.
if [[ $# -eq 0 && "${NEEDGRAPH_SKIP_NOTEBOOKS:-0}" != 1 ]]; then
    echo ">> notebooks"
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 NEEDGRAPH_PROGRESS=0 \
        python -m pytest -p no:cacheprovider --nbmake --nbmake-timeout=600 notebooks || status=1
fi
exit $status
