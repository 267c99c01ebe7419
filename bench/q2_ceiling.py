"""How precise can a cause ranking of this evidence be? A truth-trained re-scoring as a ceiling.

needgraph's cause confidence uses no planted truth. This bench asks what a scorer that *was*
trained on the truth could reach from the same candidate causes: for a seeded sample of Q2 cases
(:func:`~needgraph.reasoning.q2.select_cases`) it takes every candidate cause of
:func:`~needgraph.reasoning.explain.cause_scores` with features an explanation has (its
confidence, its rank, how many tag bins and texts support it, their attribution and link
weights, the prediction, the customer's survey labels) plus, in the second variant, the
generator's own cause prevalences and affected domains; a gradient-boosted classifier learns
"planted or not" on half of the customers and scores the other half (then the halves swap). Each
scorer then reports, per case, the causes at or above a threshold and >= 0.8 x its best (as
needgraph does), and the table gives precision@3 and coverage per threshold.

Example (the Q2 store, model and generator folder of ``bench/q2_results.md``)::

    NEEDGRAPH_STORE=sqlite:////tmp/q2-10k/graph.db python bench/q2_ceiling.py \\
        --data /tmp/q2-10k/data --model /tmp/q2-10k/model.pt --cases 1600
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path
from typing import Any

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def candidates(data_dir: Path, model_path: Path, n: int, seed: int) -> list[dict[str, Any]]:
    """Per sampled case: its candidate causes with their features and planted flags."""
    import torch

    from needgraph.graph.factory import open_store
    from needgraph.reasoning.artifacts import load_model
    from needgraph.reasoning.explain import cause_scores, context
    from needgraph.reasoning.export import export_graph
    from needgraph.reasoning.q2 import select_cases

    torch.set_num_threads(1)
    world = json.loads((data_dir / "truth_model.json").read_text(encoding="utf-8"))
    effects = {c["id"]: c["effects"] for c in world["causes"]}
    prevalence = {c["id"]: c["prevalence"] for c in world["causes"]}
    rows: list[dict[str, Any]] = []
    with open_store() as store:
        model = load_model(model_path)
        data, _ = export_graph(store, model.schema)
        ctx = context(store, model, data)
        cases = select_cases(ctx, data_dir / "truth.jsonl")
        cases = random.Random(seed).sample(cases, min(n, len(cases)))
        y, seen = data["customer"].y, data["customer"].y_mask
        domains = list(ctx.scorer.domains)
        for g, case in enumerate(cases):
            cs = cause_scores(ctx, case.c, case.domain, min_confidence=0.0)
            labels = [float(y[case.c, j]) if bool(seen[case.c, j]) else -1.0
                      for j in range(len(domains))]
            top = max(cs.confidence.values(), default=0.0)
            order = sorted(cs.confidence, key=lambda z: -cs.confidence[z])
            links = {i: ctx.concepts.candidates(cs.items[i], case.domain) for i in cs.candidates}
            for cause, conf in cs.confidence.items():
                support = [(cs.items[i], cs.attribution[i], link[cause])
                           for i, link in links.items() if cause in link]
                texts = sum(it.kind != "tag" for it, _, _ in support)
                observable = [
                    conf, conf / top if top else 0.0, order.index(cause), len(order), texts,
                    len(support) - texts, max((a for _, a, _ in support), default=0.0),
                    sum(max(a, 0.0) for _, a, _ in support),
                    max((w for _, _, w in support), default=0.0), cs.p, *labels,
                ]
                others = [d for d in effects.get(cause, {}) if d != case.domain]
                truth_only = [prevalence.get(cause, -1.0), float(cause in effects), len(others)]
                rows.append({"case": g, "planted": cause in case.planted,
                             "observable": observable, "truth": observable + truth_only})
    return rows


def table(rows: list[dict[str, Any]], score: list[float], cases: int) -> list[tuple[float, ...]]:
    """``(threshold, precision@3, coverage)`` of reporting causes >= threshold, >= 0.8 x best."""
    by_case: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    for row, s in zip(rows, score, strict=True):
        by_case[row["case"]].append((s, row["planted"]))
    out = []
    for th in THRESHOLDS:
        precision = []
        for found in by_case.values():
            best = max(s for s, _ in found)
            top = sorted((x for x in found if x[0] >= th and x[0] >= 0.8 * best), reverse=True)[:3]
            if top:
                precision.append(sum(p for _, p in top) / len(top))
        out.append((th, sum(precision) / max(len(precision), 1), len(precision) / cases))
    return out


def cross_fitted(rows: list[dict[str, Any]], features: str) -> list[float]:
    """P(planted) of every candidate from a classifier fitted on the other half of the cases."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.array([r[features] for r in rows])
    y = np.array([r["planted"] for r in rows])
    half = np.array([r["case"] % 2 for r in rows])
    out = np.zeros(len(rows))
    for fold in (0, 1):
        fit = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
        fit.fit(x[half != fold], y[half != fold])
        out[half == fold] = fit.predict_proba(x[half == fold])[:, 1]
    return [float(v) for v in out]


def main() -> None:
    """Print the precision/coverage table of each scorer."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="generator output folder")
    p.add_argument("--model", required=True, type=Path)
    p.add_argument("--cases", type=int, default=1600)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rows = candidates(args.data, args.model, args.cases, args.seed)
    cases = len({r["case"] for r in rows})
    scorers = {
        "needgraph confidence (no truth)": [r["observable"][0] for r in rows],
        "trained on truth, observable features": cross_fitted(rows, "observable"),
        "trained on truth, + generator prevalences": cross_fitted(rows, "truth"),
    }
    print(f"{cases} cases, {len(rows)} candidate causes, "
          f"{sum(r['planted'] for r in rows)} planted\n")
    print("| scorer | threshold | precision@3 | coverage |\n|---|---|---|---|")
    for name, score in scorers.items():
        for th, precision, coverage in table(rows, score, cases):
            print(f"| {name} | {th} | {precision:.3f} | {coverage:.3f} |")


if __name__ == "__main__":
    main()
