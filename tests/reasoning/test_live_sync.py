"""Two processes' reasoners on one store: events and outcomes one records reach the other.

Two :class:`Reasoner` objects over two store connections to one SQLite file stand for two
serving processes (each store object has its own change-log writer id, as each process does).
Uses the tiny trained model of :mod:`tests.reasoning.test_live`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.graph.sqlite import SqliteStore  # noqa: E402
from needgraph.ingest.change_log import WRITERS_META, change_log  # noqa: E402
from needgraph.ingest.events import Event, EventKind, Outcome, OutcomeStatus  # noqa: E402
from needgraph.ontology.graph_schema import GRAPH_SCHEMA  # noqa: E402
from needgraph.reasoning.live import apply_event, apply_outcome  # noqa: E402
from needgraph.reasoning.live_sync import LiveSync  # noqa: E402
from needgraph.reasoning.recommend import (  # noqa: E402
    PRIOR_STRENGTH,
    _customers_with_cause,
    _offers,
)
from needgraph.reasoning.runtime import Reasoner  # noqa: E402
from tests.ingest.conftest import tiny_ontology  # noqa: E402
from tests.reasoning.test_live import (  # noqa: E402
    BROADBAND,
    COMPLAINTS,
    Trained,
    copy_store,
    linker,
    pick,
    snapshot,
    trained,
)

__all__ = ["trained"]  # the module fixture, shared with test_live


@pytest.fixture
def pair(trained: Trained, tmp_path: Path) -> Iterator[tuple[Reasoner, Reasoner, LiveSync]]:
    """Reasoners A and B on one store file; B's :class:`LiveSync` snapshot taken before it opens."""
    db, model_path, _ = trained
    path = copy_store(db, tmp_path / "graph.db")
    stores = [SqliteStore(path, schema=GRAPH_SCHEMA) for _ in range(2)]
    sync = LiveSync(stores[1])
    sync.snapshot()
    a, b = (Reasoner.open(s, model_path) for s in stores)
    for r in (a, b):
        r._ontology = tiny_ontology()
    yield a, b, sync
    for s in stores:
        s.close()


def test_an_event_recorded_by_one_process_reaches_the_other(
    pair: tuple[Reasoner, Reasoner, LiveSync], trained: Trained
) -> None:
    a, b, sync = pair
    assert change_log(a.store).writer != change_log(b.store).writer
    quiet = pick(trained[2], 4, complains=False)
    assert sync.catch_up(b) == 0  # nothing logged since B's snapshot
    before = snapshot(b, quiet)
    apply_event(a, Event(quiet[0], EventKind.COMPLAINT_TEXT, text=COMPLAINTS[0], lang="en"),
                linker=linker())
    assert snapshot(a, quiet[:1]) != before  # A applied its own event at once
    assert snapshot(b, quiet) == before  # B has not looked yet
    assert sync.catch_up(b) == 1
    assert snapshot(b, quiet) == snapshot(a, quiet)  # exactly A's answers; others untouched
    assert snapshot(b, quiet[1:]) == {c: before[c] for c in quiet[1:]}
    assert sync.catch_up(b) == 0  # the write token is unchanged: one metadata read, no work
    # B's own events are not applied twice, and A catches up with B's
    sync_a = LiveSync(a.store, changes=change_log(a.store))
    sync_a.snapshot()
    apply_event(b, Event(quiet[1], EventKind.TAG_CHANGE,
                         tag="tag.monthly_charge", value=500.0))
    assert sync.catch_up(b) == 0
    assert sync_a.catch_up(a) == 1
    assert snapshot(a, quiet) == snapshot(b, quiet)


def test_an_outcome_recorded_by_one_process_moves_the_others_rates(
    pair: tuple[Reasoner, Reasoner, LiveSync], trained: Trained
) -> None:
    a, b, sync = pair
    truth = trained[2]
    complainers = pick(truth, 40, complains=True)
    target = complainers[0]
    fresh = [c for c in complainers[1:] if truth[c]["offer"] is None][:3]

    def trial(r: Reasoner) -> tuple[float, int]:
        found = [x for x in r.recommend(target, BROADBAND, k=5)
                 if x.strategy == "strategy.speed_trial"]
        return found[0].acceptance_rate, found[0].similar_offers

    before = trial(b)
    for c in fresh:
        apply_outcome(a, Outcome(c, "strategy.speed_trial", OutcomeStatus.ACCEPTED,
                                 satisfaction_after=5))
    assert trial(b) == before  # B still holds the old offers
    assert sync.catch_up(b) == 3
    assert trial(b) == trial(a) != before
    assert trial(b)[1] == before[1] + 3


def test_a_siblings_write_is_seen_at_once_and_an_outsiders_within_the_interval(
    pair: tuple[Reasoner, Reasoner, LiveSync], trained: Trained,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b, _ = pair
    from needgraph.reasoning import live_sync

    now, siblings, token_reads = [1000.0], [0], [0]
    monkeypatch.setattr(live_sync.time, "monotonic", lambda: now[0])
    read_token = b.store.write_token

    def counted() -> str | None:
        token_reads[0] += 1
        return read_token()

    monkeypatch.setattr(b.store, "write_token", counted)
    sync = LiveSync(b.store, interval_s=30.0, sibling_writes=lambda: siblings[0])
    sync.snapshot()
    assert sync.catch_up(b) == 0 and token_reads[0] == 1  # the first answer looks
    quiet = pick(trained[2], 2, complains=False)
    before = snapshot(b, quiet)
    for _ in range(3):
        assert sync.catch_up(b) == 0
    assert token_reads[0] == 1  # nothing counted, interval not over: no store round trip
    # a sibling worker records an event and counts it: the next answer catches up at once
    apply_event(a, Event(quiet[0], EventKind.TAG_CHANGE, tag="tag.monthly_charge", value=480.0))
    siblings[0] += 1
    assert sync.catch_up(b) == 1 and token_reads[0] == 2
    assert snapshot(b, quiet[:1]) == snapshot(a, quiet[:1]) != {quiet[0]: before[quiet[0]]}
    # a writer outside the server (not counted) is seen once the interval is over
    apply_event(a, Event(quiet[1], EventKind.TAG_CHANGE, tag="tag.monthly_charge", value=470.0))
    now[0] += 29.0
    assert sync.catch_up(b) == 0 and token_reads[0] == 2
    now[0] += 2.0
    assert sync.catch_up(b) == 1 and token_reads[0] == 3
    assert snapshot(b, quiet) == snapshot(a, quiet)


def check_similar_offers(r: Reasoner, customers: list[str]) -> int:
    """Assert each action's similar offers equal a count over the union of the top causes'
    customers; return the number of actions checked."""
    from needgraph.reasoning.explain import cause_scores

    ctx = r.context()
    offers = _offers(r.store)
    checked = 0
    for customer in customers:
        c = ctx.scorer.index[customer]
        top = [cz for cz, _ in cause_scores(ctx, c, BROADBAND).ranked][:3]
        similar = set().union(*(_customers_with_cause(ctx, cz) for cz in top)) - {customer}
        for action in r.recommend(customer, BROADBAND, k=10):
            rows = offers.by_strategy.get(action.strategy, [])
            sim = [r for r in rows if r[0] in similar]
            global_rate = (sum(x for _, x, _ in rows) + 1.0) / (len(rows) + 4.0)
            rate = (sum(x for _, x, _ in sim) + PRIOR_STRENGTH * global_rate) / (
                len(sim) + PRIOR_STRENGTH)
            afters = [v for _, _, v in sim if v is not None]
            assert action.similar_offers == len(sim), (customer, action.strategy)
            assert action.acceptance_rate == rate
            assert action.satisfaction_after == (sum(afters) / len(afters) if afters else None)
            checked += 1
    return checked


def test_similar_offers_equal_the_union_of_the_top_causes_customers(
    pair: tuple[Reasoner, Reasoner, LiveSync], trained: Trained
) -> None:
    """The cached tallies give what counting over the union of the top causes' customers does."""
    assert check_similar_offers(pair[0], pick(trained[2], 30, complains=True)) > 10


def test_similar_offers_stay_exact_after_events_change_customers_causes(
    pair: tuple[Reasoner, Reasoner, LiveSync], trained: Trained
) -> None:
    """Events that give customers (with and without offers) new causes move the cached tallies
    exactly as a recount does: only the tallies of strategies those customers were offered are
    recounted, and those give the new counts."""
    a = pair[0]
    truth = trained[2]
    checked = pick(truth, 30, complains=True)
    assert check_similar_offers(a, checked) > 10  # fills the cached tallies
    offers = _offers(a.store)
    quiet = pick(truth, 400, complains=False)
    with_offers = [c for c in quiet if offers.strategies_of.get(c)][:4]
    without = [c for c in quiet if not offers.strategies_of.get(c)][:2]
    assert len(with_offers) == 4 and len(without) == 2
    ctx = a.context()
    before = {c: {cz for cz in ("cause.evening_congestion",)
                  if c in _customers_with_cause(ctx, cz)} for c in with_offers + without}
    for i, c in enumerate(with_offers + without):
        apply_event(a, Event(c, EventKind.COMPLAINT_TEXT, text=COMPLAINTS[i % 2]),
                    linker=linker())
    gained = [c for c in with_offers + without
              if c in _customers_with_cause(a.context(), "cause.evening_congestion")
              and not before[c]]
    assert set(with_offers) & set(gained) and set(without) & set(gained)
    assert check_similar_offers(a, checked) > 10


def test_a_dropped_registration_is_restored_and_nothing_is_lost(
    pair: tuple[Reasoner, Reasoner, LiveSync], trained: Trained
) -> None:
    a, b, sync = pair
    quiet = pick(trained[2], 3, complains=False)
    apply_event(a, Event(quiet[0], EventKind.TAG_CHANGE, tag="tag.monthly_charge",
                         value=450.0))
    # another process's registration overwrote the list at the same instant (no CAS)
    a.store.set_meta(WRITERS_META, json.dumps([{"id": "someone-else", "since": "2099-01-01"}]))
    apply_event(a, Event(quiet[1], EventKind.TAG_CHANGE, tag="tag.monthly_charge",
                         value=460.0))  # A re-registers before it logs
    listed = {w["id"] for w in json.loads(a.store.get_meta(WRITERS_META) or "[]")}
    assert {change_log(a.store).writer, "someone-else"} <= listed
    assert sync.catch_up(b) == 2  # both of A's events, the first one included
    assert snapshot(b, quiet) == snapshot(a, quiet)


def test_cause_customers_equal_a_scan_of_every_edge(
    pair: tuple[Reasoner, Reasoner, LiveSync]
) -> None:
    """The vectorised "customers with evidence for a cause" equals the edge-by-edge definition."""
    from needgraph.reasoning.recommend import _build_cause_customers

    ctx = pair[0].context()
    data = ctx.scorer.data
    expected: dict[str, set[str]] = {}
    for et, table in ((("customer", "has_tag", "tag_bin"), ctx.concepts.indicates),
                      (("customer", "said", "utterance"), ctx.concepts.mentions)):
        ei = data[et].edge_index
        for s, d in zip(ei[0].tolist(), ei[1].tolist(), strict=True):
            for cause, _ in table.get(data[et[2]].node_key[d], []):
                expected.setdefault(cause, set()).add(data["customer"].node_key[s])
    assert expected and _build_cause_customers(ctx) == expected
