"""``needgraph event`` / ``needgraph outcome``: the CLI face of real-time events and outcomes.

``event`` records the event like an ingested row and, with a trained model (``--model``,
``$NEEDGRAPH_MODEL`` or the newest artifact), prints the customer's updated prediction and top
actions (:func:`needgraph.reasoning.live.apply_event`); ``--record-only`` needs no model.
``outcome`` records what happened to an offered strategy. Heavy modules load inside the commands.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from needgraph.cli.common import print_json
from needgraph.errors import EventValidationError
from needgraph.graph.factory import open_store

if TYPE_CHECKING:
    from needgraph.ingest.events import RecordedEvent
    from needgraph.reasoning.live import EventResult

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
AtOption = Annotated[
    str | None,
    typer.Option("--at", help="When it happened, ISO-8601 (default: now; naive = UTC)."),
]


def _moment(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise EventValidationError(f"--at={raw!r}: not an ISO-8601 time",
                                   hint="e.g. --at 2026-11-23T08:00:00Z", field="occurred_at"
                                   ) from None


def _value(raw: str | None) -> str | float | None:
    """A numeric-looking value as a number (tags bin numbers), anything else as text."""
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        return raw


def event_command(
    customer: Annotated[str, typer.Argument(help="Customer id (a new one is created).")],
    kind: Annotated[str, typer.Option(
        "--kind", help="complaint_text, tag_change, fault_ticket or survey_answer.")],
    text: Annotated[str | None, typer.Option("--text", help="The customer's text.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="zh or en (default: detect).")] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="tag_change: tag id.")] = None,
    value: Annotated[str | None, typer.Option(
        "--value", help="tag_change: new raw value; fault_ticket: category (cause/need id).")
    ] = None,
    domain: Annotated[str | None, typer.Option(
        "--domain", help="survey_answer / fault_ticket: domain id.")] = None,
    score: Annotated[int | None, typer.Option("--score", help="survey_answer: 1-5.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Utterance channel.")] = None,
    event_id: Annotated[str | None, typer.Option(
        "--event-id", help="Idempotency key (default: derived from the content).")] = None,
    at: AtOption = None,
    k: Annotated[int, typer.Option("-k", help="Actions per domain.")] = 3,
    out_lang: Annotated[str, typer.Option("--out-lang", help="Sentence language.")] = "en",
    model_path: Annotated[str | None, typer.Option(
        "--model", help="Trained model file (default: $NEEDGRAPH_MODEL, else the newest).")
    ] = None,
    record_only: Annotated[bool, typer.Option(
        "--record-only", help="Only store the event (no model needed).")] = False,
    all_domains: Annotated[bool, typer.Option(
        "--all-domains", help="Actions for every domain (default: the event's domain, else the "
        "customer's most at-risk one).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Record an event for CUSTOMER and show the updated prediction and top actions."""
    from needgraph.ingest.events import Event, EventKind, record_event

    try:
        event_kind = EventKind(kind)
    except ValueError:
        raise EventValidationError(
            f"--kind={kind!r}: unknown event kind",
            hint=f"use one of {', '.join(k.value for k in EventKind)}", field="kind") from None
    event = Event(customer, event_kind, event_id=event_id, occurred_at=_moment(at), text=text,
                  lang=lang, tag=tag, value=_value(value), domain=domain, score=score,
                  channel=channel)
    with open_store() as store:
        if record_only:
            recorded = record_event(store, event)
            if as_json:
                print_json({"event": recorded.to_dict()})
            else:
                _print_event(recorded)
            return
        from needgraph.reasoning.live import apply_event
        from needgraph.reasoning.runtime import Reasoner

        reasoner = Reasoner.open(store, model_path)
        result = apply_event(reasoner, event, k=k, lang=out_lang, all_domains=all_domains)
    if as_json:
        print_json(result.to_dict())
        return
    _print_result(result)


def _print_event(recorded: RecordedEvent) -> None:
    state = "recorded" if recorded.created else "already recorded (nothing written)"
    typer.echo(f"event {recorded.event_id} {state}: {recorded.kind} for {recorded.customer}, "
               f"{recorded.nodes} nodes, {recorded.relationships} relationships")
    if recorded.linked_concepts:
        typer.echo(f"  linked: {', '.join(recorded.linked_concepts)}")
    if recorded.negated_concepts:
        typer.echo(f"  negated/resolved: {', '.join(recorded.negated_concepts)}")


def _print_result(result: EventResult) -> None:
    _print_event(result.event)
    for d in result.prediction.domains:
        typer.echo(f"  {d.domain:<28} score {d.score:.2f}  P(dissatisfied) {d.p_dissatisfied:.0%}")
        for i, action in enumerate(result.actions.get(d.domain, []), 1):
            typer.echo(f"      {i}. {action.sentence}")
    steps = ", ".join(f"{name} {ms:.1f}" for name, ms in result.ms.items())
    typer.echo(f"  ms: {steps}")


def outcome_command(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    strategy: Annotated[str, typer.Argument(help="Strategy id of the ontology.")],
    status: Annotated[str, typer.Option("--status", help="offered, accepted or declined.")],
    satisfaction: Annotated[int | None, typer.Option(
        "--satisfaction", help="Satisfaction afterwards, 1-5.")] = None,
    domain: Annotated[str | None, typer.Option(
        "--domain", help="Domain the satisfaction score rates (also its latest rating).")
    ] = None,
    outcome_id: Annotated[str | None, typer.Option(
        "--outcome-id", help="Idempotency key (default: derived from the content).")] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record what happened to STRATEGY offered to CUSTOMER (feeds acceptance rates at once)."""
    from needgraph.ingest.events import Outcome, OutcomeStatus, record_outcome

    try:
        state = OutcomeStatus(status)
    except ValueError:
        raise EventValidationError(
            f"--status={status!r}: unknown outcome",
            hint=f"use one of {', '.join(s.value for s in OutcomeStatus)}", field="status"
        ) from None
    outcome = Outcome(customer, strategy, state, outcome_id=outcome_id,
                      satisfaction_after=satisfaction, domain=domain, occurred_at=_moment(at))
    with open_store() as store:
        recorded = record_outcome(store, outcome)
    if as_json:
        print_json(recorded.to_dict())
        return
    what = "recorded" if recorded.created else "already recorded (nothing written)"
    where = "updated offer" if recorded.updated_existing else "new offer"
    typer.echo(f"outcome {recorded.outcome_id} {what}: {recorded.status} for {recorded.customer}"
               f" ({where} {recorded.offer})")
