"""``needgraph evaluate``: the judged protocols of ``EVALUATION.md``, Q1 and Q2.

* ``--protocol q1 --setting tags|text --data CSV``: ingests the IBM Telco file with the shipped
  mapping (``mappings/ibm_telco_tags_only.yaml`` for setting A, ``mappings/ibm_telco.yaml`` for
  setting B) into a temporary embedded store with the shipped ontology (its ``datasets/`` part
  included), then runs :func:`~needgraph.reasoning.q1.run_q1`: 5-fold cross-validation when
  every customer is labelled, GNN beside LightGBM on the same split.
* ``--protocol q2``: on the configured store, which holds a generated dataset (``--data`` is the
  generator's output folder with ``truth.jsonl`` and ``truth_model.json``), explains a sample of
  dissatisfied customers with needgraph, random paths and PyG's GNNExplainer on the same model
  (``--model``, or a quick model trained here) and scores them against the planted truth
  (:func:`~needgraph.reasoning.q2.run_q2`).

torch is imported only when a protocol runs.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from needgraph.cli.common import MinConfidenceOption, print_json
from needgraph.errors import EvaluationInputError
from needgraph.reasoning.causes import MIN_CONFIDENCE

REPO = Path(__file__).resolve().parents[2]
MAPPINGS = {"tags": "ibm_telco_tags_only.yaml", "text": "ibm_telco.yaml"}
#: The shared IBM Telco file, beside the repository (EVALUATION.md's ``../shared/data``).
IBM_DEFAULT = (
    REPO.parent / "shared/data/ibm-telco-churn-11.1.3/telco_churn_11.1.3_merged_shared70.csv"
)
Q2_METRICS = (
    "cause_precision_at_3",
    "cause_recall_at_3",
    "coverage",
    "strategy_hit_at_3",
    "fidelity_plus",
    "fidelity_minus",
    "ms_per_explanation",
)


#: The evaluation protocols.
Protocol = Literal["q1", "q2"]
#: Q1 input settings: A (tags) and B (tags + text).
Setting = Literal["tags", "text"]


def evaluate(
    protocol: Annotated[Protocol, typer.Option("--protocol", help="q1 or q2.")],
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            help="q1: the IBM Telco CSV; q2: the generator's output folder (truth files).",
        ),
    ] = None,
    setting: Annotated[
        Setting, typer.Option("--setting", help="q1: tags (setting A) or text (setting B).")
    ] = "tags",
    model_path: Annotated[
        Path | None,
        typer.Option("--model", help="q2: trained model file (default: train a quick one)."),
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", min=1, help="q2: dissatisfied customers evaluated.")
    ] = 200,
    gnnexplainer_epochs: Annotated[
        int, typer.Option("--gnnexplainer-epochs", min=1, help="q2: GNNExplainer epochs.")
    ] = 100,
    min_confidence: MinConfidenceOption = MIN_CONFIDENCE,
    folds: Annotated[int, typer.Option("--folds", min=2, help="q1: CV folds.")] = 5,
    bags: Annotated[int, typer.Option("--bags", min=1, help="GNN ensemble members.")] = 5,
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="GNN max epochs.")] = 300,
    trees: Annotated[int, typer.Option("--trees", min=1, help="q1: LightGBM trees.")] = 400,
    limit: Annotated[
        int | None, typer.Option("--limit", min=10, help="q1: only the first N customers.")
    ] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, help="CPU threads.")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Split / sampling seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run a judged protocol (EVALUATION.md): Q1 prediction or Q2 explanations."""
    if protocol == "q1":
        result = run_q1_protocol(
            data or IBM_DEFAULT, setting, folds, bags, epochs, trees, limit, threads, seed
        )
        if as_json:
            print_json(result)
            return
        _print_q1(result)
        return
    if data is None:
        raise EvaluationInputError(
            "q2 needs the generator's output folder",
            hint="Pass --data FOLDER (the folder `needgraph generate --out` wrote, holding "
            "truth.jsonl), and configure the store that holds its ingested data.",
        )
    result = run_q2_protocol(
        data, model_path, sample, gnnexplainer_epochs, bags, epochs, threads, seed,
        min_confidence=min_confidence,
    )
    if as_json:
        print_json(result)
        return
    _print_q2(result)


# --------------------------------------------------------------------------- Q1
def run_q1_protocol(
    csv: Path,
    setting: Setting,
    folds: int,
    bags: int,
    epochs: int,
    trees: int,
    limit: int | None,
    threads: int,
    seed: int,
) -> dict[str, Any]:
    """Ingest the IBM Telco CSV into a temporary store and run Q1 (see the module docstring).

    Returns:
        ``{"gnn": {"mae", "auc", "macro_f1"}, "lightgbm": {...}, "setting", "mode",
        "customers", "folds", "seconds": {...}}``.
    """
    if not csv.is_file():
        raise EvaluationInputError(
            f"IBM Telco file {csv} does not exist",
            hint="Pass --data with the path of telco_churn_11.1.3_merged_shared70.csv.",
        )
    from needgraph.graph.sqlite import SqliteStore
    from needgraph.ingest.jobs import JobOptions, run_ingest
    from needgraph.ontology.files import read_ontology
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA
    from needgraph.ontology.loader import load_into_store
    from needgraph.reasoning.baseline import BaselineConfig
    from needgraph.reasoning.q1 import run_q1
    from needgraph.reasoning.train import TrainConfig

    mapping = REPO / "mappings" / MAPPINGS[setting]
    with tempfile.TemporaryDirectory(prefix="needgraph-q1-") as tmp:
        root = Path(tmp)
        source = _head(csv, root / csv.name, limit) if limit else csv
        store = SqliteStore(root / "graph.db", schema=GRAPH_SCHEMA)
        try:
            store.setup_schema()
            load_into_store(read_ontology(), store, who="evaluate", why="Q1")
            options = JobOptions(report_dir=root / "reports", progress=False)
            run_ingest(store, source, mapping=mapping, options=options)
            result = run_q1(
                store,
                train_config=TrainConfig(bags=bags, max_epochs=epochs, threads=threads, seed=seed),
                baseline_config=BaselineConfig(n_estimators=trees, threads=threads, seed=seed),
                folds=folds,
                seed=seed,
                include_text=setting == "text",
            )
        finally:
            store.close()
    out: dict[str, Any] = {m: dict(v) for m, v in result.metrics.items()}
    out.update(
        setting=setting,
        mode=result.mode,
        domain=result.domain,
        customers=len(result.customer_keys),
        folds=folds if result.mode == "cv" else 0,
        seconds=result.seconds,
    )
    return out


def _head(src: Path, dst: Path, n: int) -> Path:
    """Copy the header and the first ``n`` data rows of a CSV file."""
    with src.open(encoding="utf-8") as fin, dst.open("w", encoding="utf-8") as fout:
        for i, line in enumerate(fin):
            if i > n:
                break
            fout.write(line)
    return dst


def _print_q1(result: dict[str, Any]) -> None:
    typer.echo(
        f"Q1 setting {'A (tags)' if result['setting'] == 'tags' else 'B (tags + text)'}: "
        f"{result['customers']:,} customers, {result['mode']}"
        + (f" ({result['folds']} folds)" if result["folds"] else "")
    )
    typer.echo(f"  {'model':<10} {'MAE':>7} {'AUC':>7} {'macro-F1':>9} {'seconds':>8}")
    for name in ("gnn", "lightgbm"):
        m = result.get(name) or {}
        if not m:
            continue
        typer.echo(
            f"  {name:<10} {m['mae']:>7.3f} {m['auc']:>7.3f} {m['macro_f1']:>9.3f}"
            f" {result['seconds'].get(name, 0.0):>8.1f}"
        )


# --------------------------------------------------------------------------- Q2
def run_q2_protocol(
    folder: Path,
    model_path: Path | None,
    sample: int,
    gnnexplainer_epochs: int,
    bags: int,
    epochs: int,
    threads: int,
    seed: int,
    min_confidence: float = MIN_CONFIDENCE,
) -> dict[str, Any]:
    """Run Q2 on the configured store with a saved or a freshly trained model.

    ``min_confidence`` is needgraph's reporting bar (the baselines report every cause).

    Returns:
        :func:`~needgraph.reasoning.q2.run_q2`'s result plus ``"model"`` (the file or
        ``"trained here"``).
    """
    if not (folder / "truth.jsonl").is_file() or not (folder / "truth_model.json").is_file():
        raise EvaluationInputError(
            f"{folder} holds no truth.jsonl / truth_model.json",
            hint="Pass --data with the folder `needgraph generate --out` wrote.",
        )
    import torch

    from needgraph.graph.factory import open_store
    from needgraph.reasoning.export import export_graph
    from needgraph.reasoning.q2 import run_q2

    torch.set_num_threads(threads)
    with open_store() as store:
        if model_path is not None:
            from needgraph.reasoning.artifacts import load_model

            model = load_model(model_path)
            data, _ = export_graph(store, model.schema)
            source = str(model_path)
        else:
            from needgraph.reasoning.train import TrainConfig, fit

            data, schema = export_graph(store)
            if not schema.domains:
                raise EvaluationInputError(
                    "the configured store holds no satisfaction labels",
                    hint="Ingest the generated folder (`needgraph ingest FOLDER`) into the "
                    "store NEEDGRAPH_STORE names, or pass --model.",
                )
            train = torch.arange(int(data["customer"].num_nodes))
            config = TrainConfig(bags=bags, max_epochs=epochs, patience=10, threads=threads)
            model = fit(data, schema, train, train_config=config)
            source = "trained here"
        result = run_q2(
            store,
            model,
            data,
            folder,
            sample=sample,
            seed=seed,
            gnnexplainer_epochs=gnnexplainer_epochs,
            min_confidence=min_confidence,
        )
    result["model"] = source
    return result


def _print_q2(result: dict[str, Any]) -> None:
    typer.echo(
        f"Q2: {result['customers']} dissatisfied customers "
        f"(of {result['cases_in_population']:,} with a planted cause), model {result['model']}"
    )
    header = "".join(f" {m.replace('cause_', '').replace('_at_3', '@3'):>18}" for m in Q2_METRICS)
    typer.echo(f"  {'method':<13}{header}")
    for method in ("needgraph", "random", "gnnexplainer"):
        row = result[method]
        typer.echo(f"  {method:<13}" + "".join(f" {row[m]:>18.3f}" for m in Q2_METRICS))
    typer.echo(f"  (needgraph reports causes with confidence >= {result['min_confidence']}; "
               "the baselines report every cause their items point to)")
    up = result["uplift_recommended_vs_random"]
    typer.echo(
        f"  uplift of recommended vs random eligible strategies: {up['recommended']:+.3f} vs "
        f"{up['random']:+.3f} (difference {up['difference']:+.3f})"
    )
