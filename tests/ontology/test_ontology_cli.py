"""``needgraph ontology`` commands, run through Typer's test runner on the embedded store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from needgraph.cli.ontology import app
from needgraph.ontology.core import Ontology
from needgraph.ontology.files import read_ontology
from needgraph.ontology.io_yaml import read_yaml

runner = CliRunner()


@pytest.fixture
def sqlite_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the configured store at a fresh SQLite file."""
    from needgraph.config import get_settings

    db = tmp_path / "cli.db"
    monkeypatch.setenv("NEEDGRAPH_STORE", f"sqlite:///{db}")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_validate_prints_counts_when_clean(mini_dir: Path):
    result = runner.invoke(app, ["validate", str(mini_dir)])
    assert result.exit_code == 0, result.output
    assert "mini 1.0.0: no problems" in result.output
    assert "Cause" in result.output and "5" in result.output
    assert "total" in result.output and "19" in result.output


def test_validate_prints_every_problem_and_exits_1(make_dir: Callable[..., Path]):
    text = (
        "concepts:\n  - id: cause.broken\n    kind: Cause\n"
        "    label: {zh: 坏, en: broken}\n    definition: {zh: 坏, en: broken}\n"
        "    blocks: [need.nowhere]\n    colour: red\n"
    )
    root = make_dir({"zz_broken.yaml": text})
    result = runner.invoke(app, ["validate", str(root)])
    assert result.exit_code == 1
    broken = root / "zz_broken.yaml"
    assert f"{broken}:6: [dangling-reference] cause.broken: blocks names 'need.nowhere'" in (
        result.output
    )
    assert f"{broken}:7: [unknown-member] cause.broken:" in result.output
    assert "(fix: " in result.output and "2 problem(s)" in result.output


def test_validate_uses_the_environment_when_no_path_is_given(
    mini_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("NEEDGRAPH_ONTOLOGY", str(mini_dir))
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 0, result.output
    assert "mini 1.0.0" in result.output


def test_export_and_import_round_trip(mini: Ontology, mini_dir: Path, tmp_path: Path):
    ttl = tmp_path / "mini.ttl"
    result = runner.invoke(app, ["export", "--format", "turtle", "--out", str(ttl), str(mini_dir)])
    assert result.exit_code == 0, result.output
    assert "skos:prefLabel" in ttl.read_text(encoding="utf-8")
    out = tmp_path / "imported"
    result = runner.invoke(app, ["import", str(ttl), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "ontology.yaml").exists() and (out / "causes.yaml").exists()
    assert read_yaml(out) == mini
    stdout = runner.invoke(app, ["export", "--format", "json", str(mini_dir)])
    assert stdout.exit_code == 0 and '"name": "mini"' in stdout.output


def test_export_refuses_an_invalid_ontology(make_dir: Callable[..., Path]):
    root = make_dir({"zz.yaml": "concepts:\n  - id: cause.x\n    kind: Cause\n"})
    result = runner.invoke(app, ["export", "--format", "yaml", str(root)])
    assert result.exit_code == 1 and "[missing-label] cause.x" in result.output


def test_load_history_and_no_op(mini_dir: Path, sqlite_env: Path):
    args = ["load", str(mini_dir), "--who", "ana", "--why", "first load"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "loaded 1.0.0" in first.output
    again = runner.invoke(app, args)
    assert again.exit_code == 0 and "no-op" in again.output
    history = runner.invoke(app, ["history"])
    assert history.exit_code == 0, history.output
    assert "current: 1.0.0" in history.output
    assert "load" in history.output and "ana: first load" in history.output


def test_deprecate_with_write_updates_the_files(mini_dir: Path, sqlite_env: Path):
    load = ["load", str(mini_dir), "--who", "ana", "--why", "seed"]
    assert runner.invoke(app, load).exit_code == 0
    result = runner.invoke(
        app,
        [
            "deprecate",
            "cause.peak_hour_slowness",
            "cause.evening_congestion",
            "--path",
            str(mini_dir),
            "--who",
            "ana",
            "--why",
            "duplicate",
            "--write",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "the store now holds 1.0.1" in result.output
    written = read_ontology(mini_dir)
    assert written.manifest.version == "1.0.1"
    assert written["cause.peak_hour_slowness"].replaced_by == "cause.evening_congestion"
    assert "peak_hour_slowness" in (mini_dir / "core.yaml").read_text(encoding="utf-8")
    assert not (mini_dir / "causes.yaml").exists()  # the editor's layout is kept
    reload = runner.invoke(app, load)
    assert reload.exit_code == 0 and "no-op" in reload.output  # files and store agree
    history = runner.invoke(app, ["history"])
    assert "1.0.1" in history.output and "deprecate" in history.output


def test_merge_without_write_leaves_files_and_later_load_is_refused(
    mini_dir: Path, sqlite_env: Path
):
    load = ["load", str(mini_dir), "--who", "ana", "--why", "seed"]
    assert runner.invoke(app, load).exit_code == 0
    before = (mini_dir / "core.yaml").read_bytes()
    merge = ["merge", "cause.peak_hour_slowness", "cause.evening_congestion"]
    result = runner.invoke(app, [*merge, "--path", str(mini_dir), "--who", "a", "--why", "b"])
    assert result.exit_code == 0, result.output
    assert (mini_dir / "core.yaml").read_bytes() == before
    stale = runner.invoke(app, load)
    assert stale.exit_code == 1
    assert "1.0.1" in str(stale.exception) or "1.0.1" in stale.output


def test_merge_with_write_on_a_single_yaml_file(mini: Ontology, tmp_path: Path, sqlite_env: Path):
    single = tmp_path / "mini.yaml"
    assert (
        runner.invoke(
            app, ["export", "-f", "yaml", "-o", str(single), str(mini.provenance.root)]
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["load", str(single), "--who", "a", "--why", "b"]).exit_code == 0
    merge = ["merge", "cause.peak_hour_slowness", "cause.evening_congestion", "--path", str(single)]
    result = runner.invoke(app, [*merge, "--who", "a", "--why", "dup", "--write"])
    assert result.exit_code == 0, result.output
    written = read_ontology(single)
    assert "cause.peak_hour_slowness" not in written and written.manifest.version == "1.0.1"
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".yaml") == ["mini.yaml"]
