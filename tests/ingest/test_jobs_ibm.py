"""The shipped IBM Telco mappings end to end on a 300-row slice, against the shipped ontology."""

from __future__ import annotations

from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.records import NodeRef
from needgraph.ingest.errors import ForbiddenColumnError
from needgraph.ingest.mapping_io import load_mapping
from tests.ingest.conftest import all_counts, first_lines, ingest, tag_bins, write_yaml

REPO = Path(__file__).resolve().parents[2]
SETTING_A = REPO / "mappings" / "ibm_telco_tags_only.yaml"
SETTING_B = REPO / "mappings" / "ibm_telco.yaml"
ROWS = 300
TAG_COLUMNS = 36
FORBIDDEN = ("Customer Status", "Churn Label", "Churn Value", "Churn Score", "CLTV",
             "Churn Category")


def _load_shipped(store: GraphStore) -> None:
    from needgraph.ontology.files import read_ontology
    from needgraph.ontology.loader import load_into_store

    load_into_store(read_ontology(REPO / "ontology"), store, who="tests", why="ibm ingest")


@pytest.fixture
def ibm_slice(ibm_csv: Path, tmp_path: Path) -> Path:
    return first_lines(ibm_csv, tmp_path / "ibm_slice.csv", ROWS)


def _split(ibm_slice: Path, tmp_path: Path, labelled: int) -> tuple[Path, Path]:
    lines = ibm_slice.read_text(encoding="utf-8").splitlines(keepends=True)
    train = tmp_path / "train.csv"
    held = tmp_path / "held_out.csv"
    train.write_text("".join(lines[: labelled + 1]), encoding="utf-8")
    held.write_text(lines[0] + "".join(lines[labelled + 1 :]), encoding="utf-8")
    return train, held


def test_shipped_mappings_refuse_leaky_columns(tmp_path: Path) -> None:
    for path in (SETTING_A, SETTING_B):
        doc = load_mapping(path)
        assert set(FORBIDDEN) <= set(doc.mapping.never_inputs)
        spec = doc.mapping.files[0]
        assert {c for c, _r, _p in spec.column_roles()}.isdisjoint(FORBIDDEN)
    text = SETTING_A.read_text(encoding="utf-8")
    leaky = text.replace("        Gender: tag.customer.demographics.gender",
                         "        CLTV: tag.customer.demographics.gender")
    assert leaky != text
    with pytest.raises(ForbiddenColumnError, match="CLTV"):
        load_mapping(write_yaml(tmp_path / "leaky.yaml", leaky))


def test_setting_a_with_held_out_customers(store: GraphStore, ibm_slice: Path,
                                           tmp_path: Path) -> None:
    _load_shipped(store)
    train, held = _split(ibm_slice, tmp_path, labelled=200)
    [labelled] = ingest(store, train, tmp_path, mapping=SETTING_A)
    [unlabelled] = ingest(store, held, tmp_path, mapping=SETTING_A, withhold_labels=True)
    for report in (labelled, unlabelled):
        assert report.status == "done" and report.rows_quarantined == 0, report.summary()
        assert report.unmapped_columns == []
    assert labelled.kinds == ["tags", "strategies", "labels"]
    assert unlabelled.kinds == ["tags", "strategies"] and unlabelled.labels_withheld
    nodes, rels = all_counts(store)
    assert nodes["Customer"] == ROWS
    assert rels["HAS_TAG"] == ROWS * TAG_COLUMNS
    assert rels["RATED"] == 200
    assert "Utterance" not in nodes  # Churn Reason is withheld in setting A
    assert rels["RECEIVED"] == rels["OF_STRATEGY"] == nodes["Offer"]
    first = "0002-ORFBO"  # Female, 37, Cable, no offer, satisfaction 3
    bins = tag_bins(store, first)
    assert bins["tag.customer.demographics.gender"] == "female"
    assert len(bins) == TAG_COLUMNS
    node = store.get_node(NodeRef("Customer", first))
    assert node is not None and node.props == {"source": "ibm_telco"}
    rated = store.neighbourhood(NodeRef("Customer", first), rel_types=["RATED"])
    assert [r.props["score"] for r in rated.relationships] == [3.0]
    held_customer = held.read_text(encoding="utf-8").splitlines()[1].split(",")[0]
    assert not store.neighbourhood(NodeRef("Customer", held_customer),
                                   rel_types=["RATED"]).relationships
    before = all_counts(store)
    ingest(store, train, tmp_path, mapping=SETTING_A)
    assert all_counts(store) == before


def test_setting_b_with_real_text_linker(tmp_path: Path, ibm_slice: Path) -> None:
    """Setting B with the project's real TextLinker and embedding model (SQLite)."""
    from needgraph.graph.sqlite import SqliteStore
    from needgraph.ingest.jobs import require_ontology
    from needgraph.ingest.text_port import default_text_pipeline
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA

    store = SqliteStore(tmp_path / "ibm.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    _load_shipped(store)
    pipeline = default_text_pipeline(require_ontology(store))
    [report] = ingest(store, ibm_slice, tmp_path, mapping=SETTING_B, text=pipeline)
    assert report.rows_quarantined == 0 and report.kinds == ["tags", "text", "strategies",
                                                             "labels"]
    reasons = [line.rsplit(",", 1)[-1] for line in
               ibm_slice.read_text(encoding="utf-8").splitlines()[1:]]
    said = sum(1 for r in reasons if r.strip())
    nodes, rels = all_counts(store)
    assert nodes["Utterance"] == rels["SAID"] == said > 0
    assert rels["RATED"] == ROWS and rels["HAS_TAG"] == ROWS * TAG_COLUMNS
    assert rels["MENTIONS"] >= said  # every IBM churn reason names a cause
    customer = "0004-TLHLJ"  # "Competitor had better devices"
    said_nodes = store.neighbourhood(NodeRef("Customer", customer), rel_types=["SAID"]).nodes
    [utterance] = said_nodes
    assert utterance.props["lang"] == "en" and utterance.props["channel"] == "survey"
    embedding = utterance.props["embedding"]
    assert isinstance(embedding, list) and len(embedding) == 384
    mentions = store.neighbourhood(utterance.ref, rel_types=["MENTIONS"], direction="out")
    assert "cause.competitor_better_devices" in {n.key for n in mentions.nodes}
    store.close()
