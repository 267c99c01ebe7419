"""The ``needgraph ingest`` command and folder layouts (generator file names, mapping.yaml)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from needgraph.cli.ingest import ingest as ingest_command
from needgraph.config import get_settings
from needgraph.graph.base import GraphStore
from needgraph.graph.sqlite import SqliteStore
from needgraph.ingest.errors import OntologyNotLoadedError
from needgraph.ontology.graph_schema import GRAPH_SCHEMA
from tests.ingest.conftest import (
    all_counts,
    ingest,
    load_ontology,
    tag_bins,
    tiny_ontology,
    write_csv,
    write_jsonl,
    write_yaml,
)


def _root_app() -> typer.Typer:
    """The CLI root as needgraph.cli builds it, with ingest registered like `stats`."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        """Root."""

    app.command("ingest")(ingest_command)
    return app


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("NEEDGRAPH_STORE", f"sqlite:///{db}")
    monkeypatch.setenv("NEEDGRAPH_PROGRESS", "0")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def _generated_folder(folder: Path) -> Path:
    folder.mkdir()
    write_csv(folder / "customers_tags.csv", ["customer_id", "TENURE_M", "BB_TYPE"],
              [["G1", "3", "FTTH"], ["G2", "40", "DSL"]])
    write_csv(folder / "tags_long.csv", ["customer_id", "tag", "value", "time"],
              [["G1", "SENIOR", "No", "2026-08-31T00:00:00Z"]])
    write_csv(folder / "offers.csv",
              ["customer_id", "strategy", "time", "outcome", "satisfaction_after"],
              [["G1", "S_SPEED_TRIAL", "2026-09-01T00:00:00Z", "accepted", "4"]])
    write_csv(folder / "labels.csv", ["customer_id", "domain", "score", "time"],
              [["G1", "home_broadband", "2", "2026-09-02T00:00:00Z"],
               ["G2", "home_broadband", "5", "2026-09-02T00:00:00Z"]])
    (folder / "truth.jsonl").write_text("{}\n", encoding="utf-8")
    write_yaml(folder / "mapping.yaml", """
version: 1
dataset: synthetic-test
customer_id: customer_id
observed_at: "2026-09-30T00:00:00Z"
never_inputs: []
files:
  - path: customers_tags.csv
    tags:
      columns:
        TENURE_M: tag.tenure_months
        BB_TYPE: {tag: tag.internet_type, values: {FTTH: Fiber Optic}}
  - path: tags_long.csv
    tags: {long: {tag: tag, value: value, time: time, tags: {SENIOR: tag.senior}}}
  - path: offers.csv
    strategies:
      - strategy: strategy
        values: {S_SPEED_TRIAL: strategy.speed_trial}
        outcome: {column: outcome}
        satisfaction_after: satisfaction_after
        time: time
  - path: labels.csv
    labels:
      - score: score
        domain: {column: domain}
        domain_values: {home_broadband: domain.home_broadband}
        time: time
""")
    return folder


def test_cli_needs_a_loaded_ontology(sqlite_env: Path, tmp_path: Path) -> None:
    folder = _generated_folder(tmp_path / "gen")
    result = CliRunner().invoke(_root_app(), ["ingest", str(folder)])
    assert result.exit_code == 1
    assert isinstance(result.exception, OntologyNotLoadedError)
    assert result.exception.hint == "run: needgraph ontology load"


def test_cli_ingests_a_generated_folder(sqlite_env: Path, tmp_path: Path) -> None:
    store = SqliteStore(sqlite_env, schema=GRAPH_SCHEMA)
    load_ontology(store, tiny_ontology())
    store.close()
    folder = _generated_folder(tmp_path / "gen")
    reports = tmp_path / "reports"
    runner = CliRunner()
    result = runner.invoke(_root_app(), ["ingest", str(folder), "--json", "--report-dir",
                                         str(reports), "--no-progress"])
    assert result.exit_code == 0, result.output
    jobs = json.loads(result.output)["jobs"]
    assert [Path(j["file"]).name for j in jobs] == [
        "customers_tags.csv", "tags_long.csv", "offers.csv", "labels.csv"]
    assert all(j["status"] == "done" and j["rows_quarantined"] == 0 for j in jobs)
    assert all(Path(j["report_path"]).is_file() for j in jobs)
    store = SqliteStore(sqlite_env, schema=GRAPH_SCHEMA)
    assert tag_bins(store, "G1") == {"tag.tenure_months": "lt_12m",
                                     "tag.internet_type": "fiber", "tag.senior": "no"}
    assert all_counts(store)[1]["RATED"] == 2
    store.close()
    # --no-labels and --kind, human-readable output
    result = runner.invoke(_root_app(), ["ingest", str(folder), "--kind", "labels",
                                         "--no-labels", "--report-dir", str(reports)])
    assert result.exit_code == 0, result.output
    assert "nothing to ingest" in result.output


def test_folder_without_mapping_uses_conventions(onto_store: GraphStore, tmp_path: Path,
                                                 stub_text: object) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    write_csv(folder / "customers_tags.csv", ["customer_id", "tenure_months", "tag.senior"],
              [["P1", "5", "Yes"]])
    write_jsonl(folder / "texts.jsonl", [
        {"customer_id": "P1", "time": "2026-09-01T00:00:00Z", "channel": "chat", "lang": "zh",
         "text": "晚上卡"}])
    write_csv(folder / "labels.csv", ["customer_id", "domain", "score"],
              [["P1", "domain.overall", "1"]])
    reports = ingest(onto_store, folder, tmp_path, text=stub_text)  # type: ignore[arg-type]
    assert [r.kinds for r in reports] == [["tags"], ["text"], ["labels"]]
    assert tag_bins(onto_store, "P1") == {"tag.tenure_months": "lt_12m", "tag.senior": "yes"}
    _, rels = all_counts(onto_store)
    assert rels["SAID"] == 1 and rels["MENTIONS"] == 1 and rels["RATED"] == 1


def test_progress_modes(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import sys

    from needgraph.ingest import progress as progress_mod

    assert isinstance(progress_mod.make_progress("f", 10, "B", enabled=False),
                      progress_mod.NullProgress)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    logged = progress_mod.make_progress("f.csv", 100, "B", enabled=True)
    assert isinstance(logged, progress_mod.LogProgress)
    logged._every = 0.0
    with caplog.at_level("INFO", logger="needgraph.ingest"):
        logged.advance(5, 50)
    assert "ingest f.csv: 5 rows (50%)" in caplog.text
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = progress_mod.make_progress("f.csv", 100, "B", enabled=True)
    assert isinstance(bar, progress_mod.BarProgress)
    bar.advance(5, 50)
    bar.close()
