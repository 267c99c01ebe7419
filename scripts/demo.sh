#!/usr/bin/env bash
# The main job, end to end on the embedded store (no server): ontology -> synthetic operator data
# with planted truth -> ingest -> graph stats -> train -> score every customer without a published
# score, then per-domain predictions, explanations (zh and en) and recommendations for the three
# most at risk -> segment drivers -> Q1 validation metrics and the Q2 evaluation against the
# planted truth (read only by the evaluation). Run through `make demo` (sets up the environment).
#
# Tunables (environment): DEMO_CUSTOMERS (10000), DEMO_SEED (7), DEMO_TEXT_EVERY (keep every Nth
# generated text, 6: text linking runs at ~20-40 texts/s on two cores and would dominate the run),
# DEMO_BAGS (1), DEMO_EPOCHS (100), DEMO_Q2_SAMPLE (20), DEMO_GNNEXPLAINER_EPOCHS (50; the
# `evaluate` default of 100 took 28 s per customer on the shared two cores), DEMO_THREADS (2),
# DEMO_DOMAIN (domain.home_broadband, the domain of the drivers step), DEMO_DIR (needgraph-data:
# data, model, reports). Each step prints its wall time.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${NEEDGRAPH_VENV:?run through make demo}
export PATH="$VENV/bin:$PATH"
# this checkout's package first, whatever checkout the venv's editable install points at
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
DIR=${DEMO_DIR:-needgraph-data}
export NEEDGRAPH_STORE=${NEEDGRAPH_STORE:-sqlite:///$DIR/demo.db}
export NEEDGRAPH_ONTOLOGY=${NEEDGRAPH_ONTOLOGY:-ontology}
CUSTOMERS=${DEMO_CUSTOMERS:-10000}
SEED=${DEMO_SEED:-7}
TEXT_EVERY=${DEMO_TEXT_EVERY:-6}
BAGS=${DEMO_BAGS:-1}
EPOCHS=${DEMO_EPOCHS:-100}
Q2_SAMPLE=${DEMO_Q2_SAMPLE:-20}
GNNX_EPOCHS=${DEMO_GNNEXPLAINER_EPOCHS:-50}
THREADS=${DEMO_THREADS:-2}
DOMAIN=${DEMO_DOMAIN:-domain.home_broadband}
DATA=$DIR/demo-data
export NEEDGRAPH_MODEL=$DIR/demo-model.pt
mkdir -p "$DIR"
START=$SECONDS
LAST=$SECONDS
TIMES=()
step() {
    [[ -n "${CURRENT:-}" ]] && TIMES+=("$(printf '%5d s  %s' $((SECONDS - LAST)) "$CURRENT")")
    LAST=$SECONDS
    CURRENT="$*"
    printf '\n\033[1m== %s ==\033[0m  (%d s)\n' "$*" $((SECONDS - START))
}

step "fresh embedded store: ${NEEDGRAPH_STORE}"
rm -f "${NEEDGRAPH_STORE#sqlite:///}"{,-wal,-shm} "$NEEDGRAPH_MODEL"

step "validate and load the curated ontology"
needgraph ontology validate
needgraph ontology load --who demo --why "make demo"

step "generate ${CUSTOMERS} customers with planted ground truth (seed ${SEED})"
needgraph generate --customers "$CUSTOMERS" --seed "$SEED" --out "$DATA"
if [[ "$TEXT_EVERY" -gt 1 ]]; then
    awk -v k="$TEXT_EVERY" 'NR % k == 1' "$DATA/texts.jsonl" > "$DATA/texts.kept" &&
        mv "$DATA/texts.kept" "$DATA/texts.jsonl"
    echo "kept every ${TEXT_EVERY}th text: $(wc -l < "$DATA/texts.jsonl") texts" \
        "(DEMO_TEXT_EVERY=1 keeps all)"
fi

step "ingest tags, texts (zh/en), offers and satisfaction labels"
needgraph ingest "$DATA" --report-dir "$DIR/demo-reports"

step "the cognitive graph"
needgraph stats

step "train the satisfaction GNN (${BAGS} bags, <= ${EPOCHS} epochs; Q1 metrics on held-out labels)"
needgraph train --bags "$BAGS" --epochs "$EPOCHS" --threads "$THREADS" --out "$NEEDGRAPH_MODEL"

# Three customers whose survey scores were not published (the model never saw their labels), each
# with a planted cause, picked from the generator's truth file.
mapfile -t UNLABELLED < <(python - "$DATA/customers_tags.csv" "$DATA/labels.csv" <<'PY'
import csv, sys

with open(sys.argv[2], encoding="utf-8") as fh:
    labelled = {row["customer_id"] for row in csv.DictReader(fh)}
with open(sys.argv[1], encoding="utf-8") as fh:
    print("\n".join(r["customer_id"] for r in csv.DictReader(fh) if r["customer_id"] not in labelled))
PY
)

step "score the ${#UNLABELLED[@]} customers without a published score; show the three most at risk"
needgraph predict "${UNLABELLED[@]}" --json > "$DIR/demo-predictions.json"
mapfile -t PICKED < <(python - "$DIR/demo-predictions.json" <<'PY'
import json, sys

body = json.load(open(sys.argv[1], encoding="utf-8"))
ranked = sorted(
    ((max(p["domains"], key=lambda d: d["p_dissatisfied"]), p) for p in body["predictions"]),
    key=lambda pair: -pair[0]["p_dissatisfied"],
)
picked, seen = [], set()
for worst, p in ranked:  # the most at-risk customers, one per worst domain while there are
    if worst["domain"] not in seen or len(seen) >= 3:
        picked.append((worst, p))
        seen.add(worst["domain"])
    if len(picked) == 3:
        break
for worst, p in picked:
    for d in p["domains"]:
        print(f"{p['customer']}  {d['domain']:<24} score {d['score']:.1f}  "
              f"P(dissatisfied) {d['p_dissatisfied']:.2f}", file=sys.stderr)
    print(p["customer"], worst["domain"])
PY
)
CUSTOMER_IDS=()
WORST=()
for row in "${PICKED[@]}"; do
    CUSTOMER_IDS+=("${row%% *}")
    WORST+=("${row##* }")
done

step "why: explanations (zh, en) and recommendations for ${CUSTOMER_IDS[*]}; drivers of ${DOMAIN}"
python - "$DOMAIN" "${CUSTOMER_IDS[@]}" "${WORST[@]}" <<'PY'
import sys

from needgraph.graph.factory import open_store
from needgraph.reasoning.runtime import Reasoner

domain, rest = sys.argv[1], sys.argv[2:]
customers, worst = rest[: len(rest) // 2], rest[len(rest) // 2 :]
with open_store() as store:
    reasoner = Reasoner.open(store)
    for customer, dom in zip(customers, worst, strict=True):
        print(f"\n-- {customer}: why (dis)satisfied with {dom}, and what to do")
        for lang in ("zh", "en"):
            result = reasoner.explain(customer, dom, k=3, lang=lang)
            print(result.sentence)
            for i, path in enumerate(result.paths, 1):
                print(f"  {i}. [{path.share:.0%}] {path.sentence}")
        actions = reasoner.recommend(customer, dom, k=3, lang="en")
        for i, action in enumerate(actions, 1):
            print(f"  {i}. {action.sentence}")
        if not actions:
            print("  no eligible strategy")
    print(f"\n-- segment drivers of {domain} (all customers):")
    print("   cause, contribution [bootstrap interval], share of customers affected")
    found = reasoner.drivers(domain, None, k=8)
    for d in found:
        print(f"  {d.cause:<40} {d.contribution:.4f} [{d.low:.4f}, {d.high:.4f}]"
              f"  affected {d.share_affected:.0%} of {d.customers}")
    if not found:
        print("  no cause drives predicted dissatisfaction (is the model trained long enough?)")
PY

step "Q2: explanations and recommendations against the planted truth (${Q2_SAMPLE} customers)"
needgraph evaluate --protocol q2 --data "$DATA" --model "$NEEDGRAPH_MODEL" --sample "$Q2_SAMPLE" \
    --gnnexplainer-epochs "$GNNX_EPOCHS" --threads "$THREADS"

step "done"
printf '\nstep times:\n'
printf '%s\n' "${TIMES[@]}"
printf '%5d s  total\n' $((SECONDS - START))
