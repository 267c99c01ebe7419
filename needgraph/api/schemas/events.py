"""Real-time events and action outcomes (see docs/events.md for what each kind writes)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from needgraph.api.schemas.reasoning import ActionPublic, PredictionPublic

EventKindName = Literal["complaint_text", "tag_change", "fault_ticket", "survey_answer"]
OutcomeStatusName = Literal["offered", "accepted", "declined"]
IdempotencyKey = Field(
    None,
    min_length=1,
    max_length=200,
    pattern=r"^[A-Za-z0-9._:@/+-]+$",
    description="idempotency key: a retry with the same id writes nothing and gets the same "
    "answer (derived from the content when left out)",
)


class EventCreate(BaseModel):
    """One event about a customer; which fields apply depends on ``kind``.

    * ``complaint_text``: ``text`` (required), ``lang``;
    * ``tag_change``: ``tag`` (a tag id of the ontology), ``value`` (raw, binned like ingest);
    * ``fault_ticket``: ``text`` (required), ``lang``, ``domain``, ``value`` (a Cause or Need id);
    * ``survey_answer``: ``domain``, ``score`` (1-5), optional ``text`` verbatim, ``lang``.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "crm-20260523-000123",
                    "customer": "C-1023",
                    "kind": "complaint_text",
                    "text": "晚上看视频一直卡，太差了",
                    "lang": "zh",
                },
                {
                    "customer": "C-1023",
                    "kind": "tag_change",
                    "tag": "tag.network.broadband.evening_latency_p95_ms",
                    "value": 210,
                },
            ]
        },
    )
    event_id: str | None = IdempotencyKey
    customer: str = Field(min_length=1, max_length=200, description="customer id")
    kind: EventKindName
    occurred_at: datetime | None = Field(None, description="when it happened (default: now)")
    text: str | None = Field(None, max_length=10_000, description="the customer's words")
    lang: Literal["zh", "en"] | None = Field(None, description="language (detected when null)")
    tag: str | None = Field(None, max_length=200, description="tag_change: the tag id")
    value: str | float | None = Field(
        None, description="tag_change: the new raw value; fault_ticket: a Cause or Need id"
    )
    domain: str | None = Field(None, max_length=200, description="domain id")
    score: int | None = Field(None, ge=1, le=5, description="survey_answer: the 1-5 score")
    channel: str | None = Field(
        None, max_length=50, description="utterance channel (default: the kind's)"
    )


class RecordedEventPublic(BaseModel):
    """What the event wrote (``created: false`` on a retry: nothing was written twice)."""

    event_id: str
    customer: str
    kind: EventKindName
    created: bool
    nodes: int = Field(ge=0)
    relationships: int = Field(ge=0)
    linked_concepts: list[str] = Field(description="concepts the text was linked to")
    negated_concepts: list[str] = Field(default_factory=list)
    utterance: str | None = None
    new_customer: bool = False
    observed_at: str = ""


class EventResultPublic(BaseModel):
    """The event as stored, and the customer's prediction and top actions right after it."""

    event: RecordedEventPublic
    prediction: PredictionPublic
    actions: dict[str, list[ActionPublic]] = Field(description="top actions per domain")
    ms: dict[str, float] = Field(description="milliseconds per step (record, refresh, ...)")


class OutcomeCreate(BaseModel):
    """What happened to an action offered to a customer."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "outcome_id": "crm-offer-998",
                    "customer": "C-1023",
                    "strategy": "strategy.speed_trial",
                    "status": "accepted",
                    "satisfaction_after": 4,
                    "domain": "domain.home_broadband",
                }
            ]
        },
    )
    outcome_id: str | None = IdempotencyKey
    customer: str = Field(min_length=1, max_length=200)
    strategy: str = Field(min_length=1, max_length=200, description="strategy id")
    status: OutcomeStatusName
    satisfaction_after: int | None = Field(None, ge=1, le=5, description="follow-up 1-5 score")
    domain: str | None = Field(
        None, max_length=200, description="the domain the follow-up score rates"
    )
    occurred_at: datetime | None = None


class RecordedOutcomePublic(BaseModel):
    """What the outcome wrote (``created: false`` on a retry)."""

    outcome_id: str
    created: bool
    offer: str = Field(description="key of the Offer node written or updated")
    updated_existing: bool
    customer: str
    strategy: str
    status: OutcomeStatusName
    nodes: int = Field(ge=0)
    relationships: int = Field(ge=0)


class OutcomeResultPublic(BaseModel):
    """The outcome as stored, and the customer's top actions right after it."""

    outcome: RecordedOutcomePublic
    actions: dict[str, list[ActionPublic]] = Field(
        description="top actions per domain (empty while no model is loaded)"
    )
    ms: dict[str, float] = Field(description="milliseconds per step (empty without a model)")
