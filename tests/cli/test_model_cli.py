"""``needgraph train`` then ``predict`` / ``explain`` through the real CLI, on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.cli import app
from needgraph.config import get_settings
from needgraph.errors import (
    ConfigError,
    CustomerNotFoundError,
    UnknownDomainError,
)
from needgraph.graph.base import GraphStore
from needgraph.graph.sqlite import SqliteStore
from needgraph.reasoning.artifacts import latest_model, read_info
from tests.reasoning.conftest import fill_store

TRAIN = ["train", "--bags", "2", "--epochs", "25", "--hidden", "16", "--threads", "1", "--json"]


@pytest.fixture
def cli_env(
    store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[GraphStore, Path]]:
    """The backend's store filled with the synthetic graph; the CLI configured to use it."""
    fill_store(store, tmp_path)
    if isinstance(store, SqliteStore):
        monkeypatch.setenv("NEEDGRAPH_STORE", f"sqlite:///{tmp_path / 'graph.db'}")
    else:
        monkeypatch.setenv("NEEDGRAPH_STORE", "neo4j")
    monkeypatch.setenv("NEEDGRAPH_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("NEEDGRAPH_PROGRESS", "0")
    monkeypatch.delenv("NEEDGRAPH_MODEL", raising=False)
    get_settings.cache_clear()
    yield store, tmp_path / "models"
    get_settings.cache_clear()


def _json(args: list[str]) -> dict:
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_train_then_predict_labelled_and_unlabelled_customers(cli_env):
    _, models = cli_env
    trained = _json(TRAIN)
    path = Path(trained["path"])
    assert path.parent == models and trained["model_id"] in path.name
    assert (models / "latest").read_text().strip() == path.name
    assert trained["domains"] == ["domain.overall"]  # domain.tariff has no labels
    assert trained["customers_trained"] == 200  # the 40 unlabelled customers are not trained on
    assert set(trained["metrics"]["domain.overall"]) >= {"mae", "auc", "macro_f1", "n"}

    out = _json(["predict", "C0000", "C0239", "--json"])
    assert out["model_id"] == trained["model_id"]
    assert out["domains"] == ["domain.overall"]
    first, unlabelled = out["predictions"]
    assert first["customer"] == "C0000" and first["domains"][0]["label"] is not None
    assert unlabelled["customer"] == "C0239"
    pred = unlabelled["domains"][0]
    assert pred["domain"] == "domain.overall" and pred["label"] is None
    assert 1 <= pred["score"] <= 5 and 0 <= pred["p_dissatisfied"] <= 1
    assert abs(sum(pred["probs"]) - 1) < 1e-5

    text = CliRunner().invoke(app, ["predict", "C0239", "--domain", "domain.overall"])
    assert text.exit_code == 0 and "C0239" in text.stdout and "P(dissatisfied)" in text.stdout

    explained = _json(["explain", "C0000", "--domain", "domain.overall", "--json"])
    assert explained["customer"] == "C0000" and explained["domain"] == "domain.overall"


def test_missing_model_names_the_fix_on_stderr(tmp_path):
    """The real console entry: exit 1, the problem and the fix (no torch needed to say so)."""
    from tests.reasoning.conftest import build_store

    build_store(tmp_path / "graph.db", n=10, unlabelled=2).close()
    env = {
        **os.environ,
        "NEEDGRAPH_STORE": f"sqlite:///{tmp_path / 'graph.db'}",
        "NEEDGRAPH_MODEL_DIR": str(tmp_path / "models"),
        "NEEDGRAPH_MODEL": "",
    }
    missing = subprocess.run(
        [sys.executable, "-m", "needgraph", "predict", "C0000"],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )
    assert missing.returncode == 1
    assert "no trained model" in missing.stderr and str(tmp_path / "models") in missing.stderr
    assert "fix:" in missing.stderr and "needgraph train" in missing.stderr


def test_bad_customer_domain_and_arch_are_refused_by_name(cli_env):
    runner = CliRunner()
    _, models = cli_env
    cheap = ["train", "--quick", "--epochs", "3", "--hidden", "8", "--threads", "1"]
    trained = runner.invoke(app, cheap)
    assert trained.exit_code == 0, trained.output
    assert "saved to" in trained.stdout and "domain.overall" in trained.stdout
    info = read_info(latest_model(models))  # --quick preset, explicit flags win
    assert info.train_config["bags"] == 1 and info.train_config["lr"] == 0.01
    assert info.train_config["max_epochs"] == 3 and info.model_config["hidden"] == 8
    cases = [
        (["predict", "C9999"], CustomerNotFoundError, ["'C9999'"]),
        (["predict", "C0000", "--domain", "domain.tariff"], UnknownDomainError,
         ["'domain.tariff'", "domain.overall"]),
        (["train", "--domain", "domain.tariff"], UnknownDomainError, ["no satisfaction labels"]),
        (["train", "--arch", "transformer"], ConfigError, ["'transformer'"]),
    ]
    for args, error, words in cases:
        result = runner.invoke(app, args)
        assert isinstance(result.exception, error), (args, result.output)
        assert all(w in result.exception.detail for w in words), result.exception.detail
