"""Predictions, explanations, recommendations, drivers and the model that makes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Most customers one batch request may name.
MAX_BATCH = 500
#: Most paths / actions / drivers one request may ask for.
MAX_K = 20
Lang = Literal["zh", "en"]
CustomerKey = Field(
    min_length=1, max_length=200, description="customer id (the Customer node's key)"
)


class DomainPredictionPublic(BaseModel):
    """Predicted satisfaction of one customer with one domain."""

    domain: str = Field(examples=["domain.home_broadband"])
    score: float = Field(ge=1, le=5, description="predicted 1-5 score (decoded)")
    p_dissatisfied: float = Field(ge=0, le=1, description="P(score <= 2)")
    probs: list[float] = Field(
        min_length=5, max_length=5, description="probabilities of the scores 1, 2, 3, 4, 5"
    )
    label: float | None = Field(None, description="the customer's observed score, if any")


class PredictionPublic(BaseModel):
    """Predicted satisfaction of one customer, per domain."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": "C-1023",
                    "domains": [
                        {
                            "domain": "domain.home_broadband",
                            "score": 2.1,
                            "p_dissatisfied": 0.71,
                            "probs": [0.32, 0.39, 0.17, 0.08, 0.04],
                            "label": None,
                        }
                    ],
                }
            ]
        }
    )
    customer: str
    domains: list[DomainPredictionPublic]


class PredictionBatchCreate(BaseModel):
    """Customers to predict in one request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"customers": ["C-1023", "C-2048"], "domain": None}]},
    )
    customers: list[str] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1-{MAX_BATCH} customer ids"
    )
    domain: str | None = Field(None, max_length=200, description="one domain; all when null")


class PredictionBatchPublic(BaseModel):
    """Predictions of a batch, in the order asked."""

    items: list[PredictionPublic]


class PathPublic(BaseModel):
    """One explanation path: customer -> evidence -> cause -> domain / blocked needs."""

    cause: str
    nodes: list[str]
    relations: list[str]
    evidence: list[dict[str, Any]] = Field(
        description="per item: kind (tag|utterance), key, tag, bin, value, text, confidence"
    )
    weight: float = Field(description="attribution carried (log-odds of P(dissatisfied))")
    share: float = Field(description="weight over the prediction's total positive attribution")
    confidence: float = Field(
        0.0,
        description="how likely the cause is really present (0-1; calibrated on labels)",
    )
    sentence: str
    concepts: list[str]


class CauseWeightPublic(BaseModel):
    """A cause and the attribution it carries."""

    cause: str
    weight: float
    confidence: float = Field(0.0, description="see PathPublic.confidence (0-1)")


class ExplanationPublic(BaseModel):
    """Why one customer is predicted (dis)satisfied with one domain."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer": "C-1023",
                    "domain": "domain.home_broadband",
                    "lang": "en",
                    "p_dissatisfied": 0.71,
                    "expected_score": 2.1,
                    "p_without_evidence": 0.22,
                    "paths": [],
                    "causes": [
                        {"cause": "cause.evening_congestion", "weight": 0.9, "confidence": 0.82}
                    ],
                    "no_strong_driver": False,
                    "sentence": "C-1023 is predicted dissatisfied with home broadband (2.1/5) ...",
                    "attribution": {"tag.evening_latency_ms=high": 0.6},
                    "ms": 4.2,
                }
            ]
        }
    )
    customer: str
    domain: str
    lang: Lang
    p_dissatisfied: float
    expected_score: float
    p_without_evidence: float = Field(description="P(dissatisfied) with all path evidence removed")
    paths: list[PathPublic]
    causes: list[CauseWeightPublic] = Field(description="every cause above the threshold")
    no_strong_driver: bool
    sentence: str
    attribution: dict[str, float]
    ms: float = Field(description="time the explanation took, in milliseconds")


class ActionPublic(BaseModel):
    """One recommended strategy."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "strategy": "strategy.speed_trial",
                    "expected_change": 0.51,
                    "model_uplift": 0.8,
                    "acceptance_rate": 0.64,
                    "similar_offers": 120,
                    "satisfaction_after": 3.9,
                    "cost": 20.0,
                    "addresses": ["cause.evening_congestion"],
                    "score": 0.51,
                    "sentence": "Recommended: speed-upgrade trial (accepted by 64% ...)",
                }
            ]
        }
    )
    strategy: str
    expected_change: float = Field(description="acceptance rate x model uplift (1-5 score)")
    model_uplift: float
    acceptance_rate: float = Field(ge=0, le=1)
    similar_offers: int = Field(ge=0)
    satisfaction_after: float | None
    cost: float | None
    addresses: list[str]
    score: float = Field(description="ranking score (expected change, or per cost unit)")
    sentence: str


class RecommendationPublic(BaseModel):
    """Top-k actions for one customer and domain, best first."""

    customer: str
    domain: str
    actions: list[ActionPublic]


class RecommendationBatchCreate(BaseModel):
    """Customers to recommend actions for in one request."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"customers": ["C-1023"], "domain": "domain.home_broadband", "k": 3}]
        },
    )
    customers: list[str] = Field(
        min_length=1, max_length=MAX_BATCH, description=f"1-{MAX_BATCH} customer ids"
    )
    domain: str | None = Field(
        None, max_length=200, description="domain id (may be left out when the model has one)"
    )
    k: int = Field(3, ge=1, le=MAX_K)
    cost_aware: bool = Field(False, description="rank by expected change per cost unit")
    lang: Lang = "en"


class RecommendationBatchPublic(BaseModel):
    """Recommendations of a batch, in the order asked."""

    items: list[RecommendationPublic]


class DriverPublic(BaseModel):
    """One cause's contribution to predicted dissatisfaction over a segment."""

    cause: str
    contribution: float = Field(description="mean path weight per customer")
    low: float = Field(description="lower bound of the bootstrap interval")
    high: float = Field(description="upper bound of the bootstrap interval")
    share_affected: float = Field(ge=0, le=1)
    customers: int = Field(ge=0, description="customers evaluated")


class DriversPublic(BaseModel):
    """Key drivers of dissatisfaction with a domain over a segment."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "domain": "domain.home_broadband",
                    "segment": None,
                    "items": [
                        {
                            "cause": "cause.evening_congestion",
                            "contribution": 0.42,
                            "low": 0.35,
                            "high": 0.5,
                            "share_affected": 0.31,
                            "customers": 500,
                        }
                    ],
                }
            ]
        }
    )
    domain: str
    segment: str | None
    items: list[DriverPublic]


class ModelInfoPublic(BaseModel):
    """The loaded model: where it came from, what it was trained on, how well it did."""

    model_config = ConfigDict(extra="allow", protected_namespaces=(), populate_by_name=True)
    path: str
    model_id: str
    created_at: str = Field(description="ISO-8601 UTC")
    needgraph_version: str
    ontology_version: str | None
    schema_fingerprint: str
    data_fingerprint: str | None
    domains: list[str]
    metrics: dict[str, Any] = Field(description="per domain: mae, auc, macro_f1 (validation)")
    model_config_: dict[str, Any] = Field(alias="model_config", serialization_alias="model_config")
    train_config: dict[str, Any]
    customers_trained: int | None
    loaded_at: str = Field(description="when this process loaded it (ISO-8601 UTC)")
