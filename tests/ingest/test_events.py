"""Real-time events and outcomes on both stores: stored like ingest, at most once, validated."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

from needgraph.errors import EventValidationError
from needgraph.graph.base import GraphStore
from needgraph.graph.records import NodeRef, Relationship
from needgraph.ingest.events import (
    EVENT_META_PREFIX,
    Event,
    EventKind,
    Outcome,
    OutcomeStatus,
    record_event,
    record_outcome,
)
from needgraph.ingest.text_port import TextPipeline
from tests.ingest.conftest import (
    all_counts,
    ingest,
    tag_bins,
    tiny_ontology,
    write_csv,
    write_jsonl,
    write_yaml,
)

T1 = datetime(2026, 11, 1, 20, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
PHONE = "13812345678"


@lru_cache(maxsize=1)
def linker() -> TextPipeline:
    """The real text linker over the tiny ontology, lexicon only (spaCy loads once)."""
    from needgraph.ingest.text import Lexicon, TextLinker

    return TextPipeline(TextLinker(Lexicon.from_ontology(tiny_ontology()), None))


def out_rels(store: GraphStore, key: str, label: str, types: list[str]) -> list[Relationship]:
    """Outgoing relationships of one node."""
    sub = store.neighbourhood(NodeRef(label, key), rel_types=types, direction="out")
    return list(sub.relationships)


def complaint(customer: str, **kw: Any) -> Event:
    return Event(customer, EventKind.COMPLAINT_TEXT, **kw)


# --------------------------------------------------------------------------- events
def test_a_complaint_is_stored_exactly_like_an_ingested_text(onto_store: GraphStore,
                                                             tmp_path: Path) -> None:
    text = f"宽带晚上卡，请回电 {PHONE}"
    rows = [{"customer_id": "F1", "time": "2026-11-01T20:00:00Z", "channel": "complaint",
             "lang": "zh", "text": text}]
    ingest(onto_store, write_jsonl(tmp_path / "texts.jsonl", rows), tmp_path, text=linker())
    got = record_event(onto_store, complaint("E1", text=text, lang="zh", occurred_at=T1),
                       linker=linker())
    assert got.created and got.new_customer and got.linked_concepts == [
        "cause.evening_congestion"]
    assert got.observed_at == "2026-11-01T20:00:00Z"
    [said_f] = out_rels(onto_store, "F1", "Customer", ["SAID"])
    [said_e] = out_rels(onto_store, "E1", "Customer", ["SAID"])
    assert said_e.props == said_f.props and said_e.end.key == got.utterance
    utt_f, utt_e = (onto_store.get_node(r.end) for r in (said_f, said_e))
    assert utt_f is not None and utt_e is not None
    assert utt_e.props == utt_f.props  # text (masked), lang, channel, time, embedding fields
    assert utt_e.key.split(":", 1)[1] == utt_f.key.split(":", 1)[1]  # same key recipe
    assert PHONE not in str(utt_e.props["text"]) and "<PHONE>" in str(utt_e.props["text"])
    mentions_f = {(r.type, r.end.label, r.end.key, json.dumps(r.props, sort_keys=True))
                  for r in out_rels(onto_store, utt_f.key, "Utterance", ["MENTIONS"])}
    mentions_e = {(r.type, r.end.label, r.end.key, json.dumps(r.props, sort_keys=True))
                  for r in out_rels(onto_store, utt_e.key, "Utterance", ["MENTIONS"])}
    assert mentions_e == mentions_f and mentions_e
    customer = onto_store.get_node(NodeRef("Customer", "E1"))
    assert customer is not None and customer.props == {"source": "events"}
    marker = onto_store.get_meta(EVENT_META_PREFIX + got.event_id)
    assert marker is not None and PHONE not in marker


def test_a_retried_event_writes_nothing(onto_store: GraphStore) -> None:
    event = complaint("E2", text="it is slow in the evening", channel="app", occurred_at=T1)
    first = record_event(onto_store, event, linker=linker())
    counts = all_counts(onto_store)
    again = record_event(onto_store, event, linker=linker())
    assert first.created and not again.created
    assert all_counts(onto_store) == counts
    assert (again.event_id, again.utterance, again.nodes, again.relationships,
            again.linked_concepts) == (first.event_id, first.utterance, first.nodes,
                                       first.relationships, first.linked_concepts)
    # another id for the same content and time is another event of the same utterance (upsert)
    other = record_event(onto_store, Event(**{**event.__dict__, "event_id": "retry-2"}),
                         linker=linker())
    assert other.created and all_counts(onto_store)[0] == counts[0]


def test_an_event_keeps_an_ingested_customers_properties(onto_store: GraphStore,
                                                         tmp_path: Path) -> None:
    mapping = write_yaml(tmp_path / "mapping.yaml", """
dataset: wide-test
files:
  - path: wide.csv
    attributes: {Region: region}
    tags:
      columns: {Tenure: tag.tenure_months}
""")
    data = write_csv(tmp_path / "wide.csv", ["customer_id", "Tenure", "Region"],
                     [["W1", "5", "north"]])
    ingest(onto_store, data, tmp_path, mapping=mapping)
    got = record_event(onto_store, Event("W1", EventKind.TAG_CHANGE, tag="tag.tenure_months",
                                         value="30", occurred_at=T1))
    assert not got.new_customer and (got.nodes, got.relationships) == (1, 1)
    node = onto_store.get_node(NodeRef("Customer", "W1"))
    assert node is not None and node.props == {"source": "wide-test", "region": "north"}
    assert tag_bins(onto_store, "W1") == {"tag.tenure_months": "gte_12m"}


def test_a_tag_change_replaces_the_bin_and_latest_wins(onto_store: GraphStore) -> None:
    tag = "tag.monthly_charge"
    record_event(onto_store, Event("E3", EventKind.TAG_CHANGE, tag=tag, value=40, occurred_at=T1))
    assert tag_bins(onto_store, "E3") == {tag: "low"}
    record_event(onto_store, Event("E3", EventKind.TAG_CHANGE, tag=tag, value="120.5",
                                   occurred_at=T2))
    assert tag_bins(onto_store, "E3") == {tag: "high"}
    [edge] = out_rels(onto_store, "E3", "Customer", ["HAS_TAG"])
    assert edge.props == {"value": 120.5, "observed_at": "2026-11-02T20:00:00Z"}
    late = record_event(onto_store, Event("E3", EventKind.TAG_CHANGE, tag=tag, value=70,
                                          occurred_at=T0))  # an older observation arrives late
    assert late.created and tag_bins(onto_store, "E3") == {tag: "high"}


def test_a_survey_answer_is_the_latest_rating(onto_store: GraphStore) -> None:
    domain = "domain.home_broadband"
    record_event(onto_store, Event("E4", EventKind.SURVEY_ANSWER, domain=domain, score=2,
                                   occurred_at=T1))
    got = record_event(onto_store, Event("E4", EventKind.SURVEY_ANSWER, domain=domain, score=5,
                                         occurred_at=T2, text="fixed now, thanks"),
                       linker=linker())
    assert got.utterance is not None
    [rated] = out_rels(onto_store, "E4", "Customer", ["RATED"])
    assert rated.end.key == domain
    assert rated.props == {"score": 5.0, "observed_at": "2026-11-02T20:00:00Z",
                           "dissatisfied": False}
    utt = onto_store.get_node(NodeRef("Utterance", got.utterance))
    assert utt is not None and utt.props["channel"] == "survey"


def test_a_fault_ticket_links_its_category_and_domain(onto_store: GraphStore) -> None:
    got = record_event(onto_store, Event(
        "E5", EventKind.FAULT_TICKET, text="光猫红灯，整晚断网", value="cause.evening_congestion",
        domain="domain.home_broadband", occurred_at=T1), linker=linker())
    assert got.linked_concepts == ["cause.evening_congestion", "domain.home_broadband"]
    assert got.utterance is not None
    rels = out_rels(onto_store, got.utterance, "Utterance", ["MENTIONS"])
    methods = {r.end.key: r.props["method"] for r in rels}
    assert methods["cause.evening_congestion"] == "ticket"
    utt = onto_store.get_node(NodeRef("Utterance", got.utterance))
    assert utt is not None and utt.props["channel"] == "fault_ticket"


def test_a_negated_complaint_links_nothing_current(onto_store: GraphStore) -> None:
    got = record_event(onto_store, complaint("E6", text="it is no longer slow in the evening",
                                             lang="en"), linker=linker())
    assert got.linked_concepts == [] and got.negated_concepts == ["cause.evening_congestion"]


BAD: list[tuple[dict[str, Any], str, str, str]] = [
    # event fields, field named, text in the detail, text in the hint
    ({"kind": EventKind.TAG_CHANGE, "tag": "tag.tenure_month", "value": 3},
     "tag", "tag.tenure_month", "did you mean tag.tenure_months"),
    ({"kind": EventKind.TAG_CHANGE, "tag": "tag.tenure_months", "value": None},
     "value", "missing", "tag.tenure_months"),
    ({"kind": EventKind.TAG_CHANGE, "tag": "tag.internet_type", "value": "Satellite"},
     "value", "Satellite", "fiber: Fiber Optic"),
    ({"kind": EventKind.SURVEY_ANSWER, "domain": "domain.home_broadband", "score": 7},
     "score", "7", "1 to 5"),
    ({"kind": EventKind.SURVEY_ANSWER, "domain": "domain.tv", "score": 3},
     "domain", "domain.tv", "/v1/concepts?kind=Domain"),
    ({"kind": EventKind.COMPLAINT_TEXT, "text": "  "}, "text", "missing", "text"),
    ({"kind": EventKind.COMPLAINT_TEXT, "text": "slow", "score": 3},
     "score", "not a field of complaint_text", "lang, text"),
    ({"kind": EventKind.COMPLAINT_TEXT, "text": "slow", "lang": "fr"},
     "lang", "fr", "zh, en"),
    ({"kind": EventKind.FAULT_TICKET, "text": "down", "value": "strategy.care_call"},
     "value", "strategy.care_call", "Cause or Need"),
    ({"kind": "tweet", "text": "slow"}, "kind", "tweet", "complaint_text"),
]


@pytest.mark.parametrize(("fields", "field", "detail", "hint"), BAD,
                         ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_invalid_events_name_the_field_value_and_fix(
    onto_store: GraphStore, fields: dict[str, Any], field: str, detail: str, hint: str
) -> None:
    counts = all_counts(onto_store)
    with pytest.raises(EventValidationError) as caught:
        record_event(onto_store, Event("E7", **fields), linker=linker())
    err = caught.value
    assert err.detail.startswith(f"{field}=") and detail in err.detail, err.detail
    assert hint in err.hint, err.hint
    assert err.problem()["field"] == field and err.status == 422
    assert all_counts(onto_store) == counts


def test_event_texts_are_masked_before_anything_is_stored(onto_store: GraphStore) -> None:
    with pytest.raises(EventValidationError) as caught:
        record_event(onto_store, complaint("E8", text=f"call {PHONE}", lang="de"))
    assert PHONE not in str(caught.value)
    got = record_event(onto_store, complaint("E8", text=f"slow in the evening, call {PHONE}, "
                                             "or mail a.b@example.com"), linker=linker())
    assert got.utterance is not None
    utt = onto_store.get_node(NodeRef("Utterance", got.utterance))
    assert utt is not None
    assert PHONE not in str(utt.props["text"]) and "example.com" not in str(utt.props["text"])


# --------------------------------------------------------------------------- outcomes
def offers_of(store: GraphStore, customer: str) -> list[dict[str, Any]]:
    sub = store.neighbourhood(NodeRef("Customer", customer), 2,
                              rel_types=["RECEIVED", "OF_STRATEGY"], direction="out")
    strategy = {r.start.key: r.end.key for r in sub.relationships if r.type == "OF_STRATEGY"}
    return sorted(({"key": n.key, "strategy": strategy.get(n.key), **n.props}
                   for n in sub.nodes if n.label == "Offer"), key=lambda o: o["key"])


def test_an_outcome_updates_the_open_offer_once(onto_store: GraphStore) -> None:
    s = "strategy.speed_trial"
    offered = record_outcome(onto_store, Outcome("O1", s, OutcomeStatus.OFFERED, occurred_at=T1))
    assert offered.created and not offered.updated_existing
    assert offered.offer == "O1:strategy.speed_trial:2026-11-01T20:00:00Z"
    accepted = Outcome("O1", s, OutcomeStatus.ACCEPTED, satisfaction_after=4,
                       domain="domain.home_broadband", occurred_at=T2)
    got = record_outcome(onto_store, accepted)
    assert got.updated_existing and got.offer == offered.offer
    [offer] = offers_of(onto_store, "O1")
    assert offer == {"key": offered.offer, "strategy": s, "outcome": "accepted",
                     "satisfaction_after": 4.0, "observed_at": "2026-11-01T20:00:00Z"}
    [rated] = out_rels(onto_store, "O1", "Customer", ["RATED"])
    assert rated.props["score"] == 4.0
    counts = all_counts(onto_store)
    again = record_outcome(onto_store, accepted)
    assert not again.created and again.offer == offered.offer
    assert all_counts(onto_store) == counts
    # no open offer left: a decline is a new offer, keyed by its outcome id
    record_outcome(onto_store, Outcome("O1", s, OutcomeStatus.DECLINED, outcome_id="crm-77"))
    assert [o["outcome"] for o in offers_of(onto_store, "O1")] == ["accepted", "declined"]
    assert offers_of(onto_store, "O1")[1]["key"] == "O1:strategy.speed_trial:crm-77"


@pytest.mark.parametrize(("outcome", "field", "hint"), [
    (Outcome("O2", "strategy.speed_trail", OutcomeStatus.ACCEPTED), "strategy",
     "did you mean strategy.speed_trial"),
    (Outcome("O2", "strategy.care_call", OutcomeStatus.ACCEPTED, satisfaction_after=0),
     "satisfaction_after", "1 to 5"),
    (Outcome("O2", "strategy.care_call", OutcomeStatus.ACCEPTED, domain="domain.overall"),
     "domain", "satisfaction_after"),
    (Outcome("O2", "strategy.care_call", "maybe"), "status", "offered, accepted, declined"),
])
def test_invalid_outcomes_name_the_field_and_fix(onto_store: GraphStore, outcome: Outcome,
                                                 field: str, hint: str) -> None:
    counts = all_counts(onto_store)
    with pytest.raises(EventValidationError) as caught:
        record_outcome(onto_store, outcome)
    assert caught.value.detail.startswith(f"{field}=") and hint in caught.value.hint
    assert all_counts(onto_store) == counts


def test_recording_events_loads_no_torch() -> None:
    code = ("import sys, needgraph.ingest.events, needgraph.cli.events; "
            "sys.exit('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 0, done.stderr


def test_text_pipelines_of_only_the_two_latest_ontology_versions_stay_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from needgraph.ingest import event_checks

    built: list[str] = []

    def build(ontology: Any) -> TextPipeline:
        built.append(str(ontology))
        return TextPipeline(analyser=ontology)

    monkeypatch.setattr(event_checks, "_PIPELINES", {})
    monkeypatch.setattr("needgraph.ingest.text_port.default_text_pipeline", build)
    first = event_checks.default_pipeline("v1", "v1")
    event_checks.default_pipeline("v2", "v2")
    assert event_checks.default_pipeline("v1", "v1") is first
    event_checks.default_pipeline("v3", "v3")  # v2: the least recent
    assert set(event_checks._PIPELINES) == {"v1", "v3"}
    event_checks.default_pipeline("v2", "v2")
    assert built == ["v1", "v2", "v3", "v2"]
