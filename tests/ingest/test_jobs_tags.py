"""Tag, strategy and label jobs on both stores: quarantine, latest value wins, re-runs, labels."""

from __future__ import annotations

from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.records import NodeRef
from needgraph.ingest.errors import MappingError, OntologyNotLoadedError
from needgraph.ingest.quarantine import read_quarantine
from tests.ingest.conftest import all_counts, ingest, tag_bins, write_csv, write_yaml

WIDE = """
dataset: wide-test
never_inputs: [Churn]
files:
  - path: wide.csv
    ignore: [Note]
    attributes: {Region: region}
    tags:
      columns:
        Tenure: tag.tenure_months
        Charge: tag.monthly_charge
        Internet: {tag: tag.internet_type, values: {Fibre: Fiber Optic, n/a: null}}
        Senior: tag.senior
    strategies:
      strategy: Offer
      values: {None: null, Offer A: strategy.speed_trial, Offer B: strategy.care_call}
    labels:
      score: Score
      domain: domain.overall
"""
WIDE_HEADER = ["customer_id", "Tenure", "Charge", "Internet", "Senior", "Offer", "Score",
               "Region", "Note", "Churn"]
WIDE_ROWS = [
    ["W1", "5", "49.5", "Fibre", "No", "Offer A", "2", "north", "x", "Yes"],
    ["W2", "24", "", "DSL", "Yes", "None", "4", "", "", "No"],
    ["W3", "x", "70", "Satellite", "No", "Offer Z", "9", "south", "", "No"],  # 4 bad values
    ["", "1", "1", "DSL", "No", "None", "3", "", "", "No"],  # no customer id
    ["W5", "13", "120", "n/a", "", "Offer B", "", "east", "", "No"],
]


def _wide(tmp_path: Path) -> tuple[Path, Path]:
    data = write_csv(tmp_path / "wide.csv", WIDE_HEADER, WIDE_ROWS)
    return data, write_yaml(tmp_path / "mapping.yaml", WIDE)


def test_wide_tags_strategies_labels(onto_store: GraphStore, tmp_path: Path) -> None:
    data, mapping = _wide(tmp_path)
    [report] = ingest(onto_store, data, tmp_path, mapping=mapping)
    assert (report.rows_read, report.rows_written, report.rows_quarantined) == (5, 3, 2)
    assert report.problems == 5
    assert report.unmapped_columns == []
    assert tag_bins(onto_store, "W1") == {"tag.tenure_months": "lt_12m",
                                          "tag.monthly_charge": "low",
                                          "tag.internet_type": "fiber", "tag.senior": "no"}
    # blank cells are missing values: not written, not quarantined; `n/a` maps to missing
    assert tag_bins(onto_store, "W2") == {"tag.tenure_months": "gte_12m",
                                          "tag.internet_type": "dsl", "tag.senior": "yes"}
    assert tag_bins(onto_store, "W5") == {"tag.tenure_months": "gte_12m",
                                          "tag.monthly_charge": "high"}
    nodes, rels = all_counts(onto_store)
    assert nodes["Customer"] == 3 and nodes["Offer"] == 2
    assert rels["RATED"] == 2 and rels["RECEIVED"] == 2 and rels["OF_STRATEGY"] == 2
    w1 = onto_store.get_node(NodeRef("Customer", "W1"))
    assert w1 is not None and w1.props == {"source": "wide-test", "region": "north"}
    sub = onto_store.neighbourhood(NodeRef("Customer", "W1"), rel_types=["HAS_TAG", "RATED"],
                                   direction="out")
    props = {r.end.key: r.props for r in sub.relationships}
    assert props["tag.monthly_charge=low"]["value"] == 49.5
    assert props["tag.internet_type=fiber"]["value"] == "Fiber Optic"
    assert props["domain.overall"] == {"score": 2.0, "dissatisfied": True}
    offer = onto_store.get_node(NodeRef("Offer", "W1:strategy.speed_trial:undated"))
    assert offer is not None and offer.props["outcome"] == "offered"
    entries = read_quarantine(Path(report.quarantine_path))
    assert {(e["row"], e["field"]) for e in entries} == {
        (4, "Tenure"), (4, "Internet"), (4, "Offer"), (4, "Score"), (5, "customer_id")}
    by_field = {e["field"]: e for e in entries}
    assert by_field["Internet"]["value"] == "Satellite"
    assert "fits no bin of tag.internet_type" in by_field["Internet"]["reason"]
    assert "tags.columns.Internet.values" in by_field["Internet"]["hint"]
    assert by_field["Offer"]["reason"] == "unknown strategy"


def test_rerun_changes_no_counts(onto_store: GraphStore, tmp_path: Path) -> None:
    data, mapping = _wide(tmp_path)
    first = ingest(onto_store, data, tmp_path, mapping=mapping)[0]
    before = all_counts(onto_store)
    second = ingest(onto_store, data, tmp_path, mapping=mapping)[0]
    assert all_counts(onto_store) == before
    assert first.job_id == second.job_id
    assert len(read_quarantine(Path(second.quarantine_path))) == 5


def test_cell_policy_writes_good_values(onto_store: GraphStore, tmp_path: Path) -> None:
    data, mapping = _wide(tmp_path)
    write_yaml(mapping, WIDE.replace("dataset: wide-test", "dataset: wide-test\nbad_values: cell"))
    [report] = ingest(onto_store, data, tmp_path, mapping=mapping)
    assert report.rows_quarantined == 1  # only the row without customer id
    assert tag_bins(onto_store, "W3") == {"tag.monthly_charge": "mid", "tag.senior": "no"}


def test_labels_withheld(onto_store: GraphStore, tmp_path: Path) -> None:
    data, mapping = _wide(tmp_path)
    [report] = ingest(onto_store, data, tmp_path, mapping=mapping, withhold_labels=True)
    assert report.labels_withheld and "labels" not in report.kinds
    nodes, rels = all_counts(onto_store)
    assert "RATED" not in rels and nodes["Customer"] == 3
    # the bad score of W3 no longer matters, its other bad values still do
    assert {e["field"] for e in read_quarantine(Path(report.quarantine_path))} == {
        "Tenure", "Internet", "Offer", "customer_id"}
    # a held-out file may lack the label column altogether
    no_score = write_csv(tmp_path / "wide.csv", [c for c in WIDE_HEADER if c != "Score"],
                         [r[:6] + r[7:] for r in WIDE_ROWS])
    [held] = ingest(onto_store, no_score, tmp_path, mapping=mapping, withhold_labels=True)
    assert held.status == "done" and held.rows_written == 3
    withheld_in_mapping = WIDE.replace("dataset: wide-test", "dataset: wide-test\n"
                                       "withhold_labels: true")
    write_yaml(mapping, withheld_in_mapping)
    [again] = ingest(onto_store, data, tmp_path, mapping=mapping)
    assert again.labels_withheld and "RATED" not in all_counts(onto_store)[1]


LONG = """
dataset: long-test
files:
  - path: "*.csv"
    tags:
      long: {tag: tag, value: value, time: time, tags: {TENURE: tag.tenure_months}}
"""


def test_long_tags_latest_value_wins(onto_store: GraphStore, tmp_path: Path) -> None:
    mapping = write_yaml(tmp_path / "m.yaml", LONG)
    first = write_csv(tmp_path / "a.csv", ["customer_id", "tag", "value", "time"], [
        ["L1", "TENURE", "5", "2026-07-31"],
        ["L1", "TENURE", "14", "2026-08-31"],       # newer: wins within the batch
        ["L1", "tag.internet_type", "DSL", "2026-08-31T10:00:00+08:00"],
        ["L1", "tag.unknown", "1", "2026-08-31"],    # unknown tag -> quarantine
        ["L1", "tag.monthly_charge", "abc", "2026-08-31"],  # unmappable -> quarantine
        ["L2", "TENURE", "", "2026-08-31"],          # blank: missing, not an error
        ["L2", "tag.senior", "yes", "not a date"],   # bad time -> quarantine
    ])
    [report] = ingest(onto_store, first, tmp_path, mapping=mapping, batch_size=2)
    assert tag_bins(onto_store, "L1") == {"tag.tenure_months": "gte_12m",
                                          "tag.internet_type": "dsl"}
    entries = read_quarantine(Path(report.quarantine_path))
    assert [(e["row"], e["field"], e["value"]) for e in entries] == [
        (5, "tag", "tag.unknown"), (6, "value", "abc"), (8, "time", "not a date")]
    assert entries[0]["reason"].startswith("unknown tag")
    # a later file: an older observation does not replace, a newer one replaces the old bin
    second = write_csv(tmp_path / "b.csv", ["customer_id", "tag", "value", "time"], [
        ["L1", "TENURE", "3", "2026-01-01"],
        ["L1", "tag.internet_type", "Fiber Optic", "2026-09-30"],
    ])
    ingest(onto_store, second, tmp_path, mapping=mapping)
    assert tag_bins(onto_store, "L1") == {"tag.tenure_months": "gte_12m",
                                          "tag.internet_type": "fiber"}
    sub = onto_store.neighbourhood(NodeRef("Customer", "L1"), rel_types=["HAS_TAG"],
                                   direction="out")
    props = {r.end.key: r.props for r in sub.relationships}
    assert props["tag.internet_type=fiber"]["observed_at"] == "2026-09-30T00:00:00Z"
    assert props["tag.tenure_months=gte_12m"] == {"value": 14.0,
                                                 "observed_at": "2026-08-31T00:00:00Z"}
    assert all_counts(onto_store)[1]["HAS_TAG"] == 2


def test_undated_wide_snapshot_replaces_bin(onto_store: GraphStore, tmp_path: Path) -> None:
    mapping = write_yaml(tmp_path / "m.yaml", "dataset: d\nfiles:\n  - path: '*'\n    tags:\n"
                         "      columns: {t: tag.tenure_months}\n")
    write_csv(tmp_path / "one.csv", ["customer_id", "t"], [["U1", "3"]])
    write_csv(tmp_path / "two.csv", ["customer_id", "t"], [["U1", "30"]])
    ingest(onto_store, tmp_path / "one.csv", tmp_path, mapping=mapping)
    ingest(onto_store, tmp_path / "two.csv", tmp_path, mapping=mapping)
    assert tag_bins(onto_store, "U1") == {"tag.tenure_months": "gte_12m"}
    assert all_counts(onto_store)[1]["HAS_TAG"] == 1


def test_labels_latest_survey_wins(onto_store: GraphStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "labels.csv", ["customer_id", "domain", "score", "time"], [
        ["R1", "domain.home_broadband", "2", "2026-05-01"],
        ["R1", "domain.home_broadband", "4", "2026-03-01"],
        ["R1", "domain.overall", "3", ""],
    ])
    [report] = ingest(onto_store, path, tmp_path)
    assert report.kinds == ["labels"]
    sub = onto_store.neighbourhood(NodeRef("Customer", "R1"), rel_types=["RATED"])
    scores = {r.end.key: r.props["score"] for r in sub.relationships}
    assert scores == {"domain.home_broadband": 2.0, "domain.overall": 3.0}


def test_offers_file_with_outcomes(onto_store: GraphStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "offers.csv",
                     ["customer_id", "strategy", "time", "outcome", "satisfaction_after"], [
        ["O1", "strategy.speed_trial", "2026-06-01T08:00:00Z", "accepted", "4"],
        ["O1", "strategy.care_call", "2026-06-02T08:00:00Z", "declined", ""],
        ["O2", "strategy.care_call", "2026-06-02T08:00:00Z", "maybe", ""],
    ])
    [report] = ingest(onto_store, path, tmp_path)
    assert report.kinds == ["strategies"] and report.rows_quarantined == 1
    offer = onto_store.get_node(NodeRef("Offer", "O1:strategy.speed_trial:2026-06-01T08:00:00Z"))
    assert offer is not None
    assert offer.props == {"outcome": "accepted", "satisfaction_after": 4.0,
                           "observed_at": "2026-06-01T08:00:00Z"}


def test_wide_mapping_with_unknown_tag_is_refused(onto_store: GraphStore,
                                                  tmp_path: Path) -> None:
    data, mapping = _wide(tmp_path)
    write_yaml(mapping, WIDE.replace("Senior: tag.senior", "Senior: tag.no_such"))
    with pytest.raises(MappingError, match=r"tag\.no_such"):
        ingest(onto_store, data, tmp_path, mapping=mapping)
    assert "Customer" not in all_counts(onto_store)[0]


def test_ontology_must_be_loaded(store: GraphStore, tmp_path: Path) -> None:
    data, mapping = _wide(tmp_path)
    with pytest.raises(OntologyNotLoadedError) as info:
        ingest(store, data, tmp_path, mapping=mapping)
    assert info.value.hint == "run: needgraph ontology load"
