"""Predictions, explanations, recommendations, drivers and model info over HTTP, real model."""

from __future__ import annotations

import csv
import io
import re

import pytest

from needgraph.reasoning.causes import MIN_CONFIDENCE
from tests.api.conftest import REASONING_CUSTOMERS, REASONING_UNLABELLED, Trained, problem
from tests.api.reasoning_data import reasoning_csv

HOME, BILL = "domain.home_net", "domain.billing"
STRATEGIES = {"strategy.speed_trial", "strategy.mesh_extender"}
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_predict_one_customer_every_domain_and_one(model_api: Trained) -> None:
    api, customer = model_api.api, model_api.customers[0]
    answer = api.get(f"/v1/customers/{customer}/prediction")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["customer"] == customer
    assert [d["domain"] for d in body["domains"]] == [BILL, HOME]
    for row in body["domains"]:
        assert 1 <= row["score"] <= 5 and 0 <= row["p_dissatisfied"] <= 1
        assert sum(row["probs"]) == pytest.approx(1, abs=1e-4)
        assert row["label"] is not None  # a labelled customer: its observed score
    one = api.get(f"/v1/customers/{customer}/prediction", params={"domain": HOME}).json()
    assert [d["domain"] for d in one["domains"]] == [HOME]
    assert one["domains"][0] == next(d for d in body["domains"] if d["domain"] == HOME)
    unlabelled = model_api.customers[-1]
    rows = api.get(f"/v1/customers/{unlabelled}/prediction").json()["domains"]
    assert all(r["label"] is None for r in rows)


def test_predictions_follow_the_planted_signal(model_api: Trained) -> None:
    """High evening latency (even customers) makes home-network dissatisfaction likelier."""
    api = model_api.api
    body = {"customers": model_api.customers[:100], "domain": HOME}
    items = api.post("/v1/predictions", "analyst", json=body).json()["items"]
    assert [i["customer"] for i in items] == model_api.customers[:100]
    high = [i["domains"][0]["p_dissatisfied"] for n, i in enumerate(items) if n % 2 == 0]
    low = [i["domains"][0]["p_dissatisfied"] for n, i in enumerate(items) if n % 2 == 1]
    assert sum(high) / len(high) > sum(low) / len(low) + 0.1


def test_prediction_errors(model_api: Trained) -> None:
    api = model_api.api
    missing = problem(api.get("/v1/customers/NOPE-1/prediction"), 404, "customer-not-found")
    assert "NOPE-1" in str(missing["detail"])
    wrong = problem(
        api.get(f"/v1/customers/{model_api.customers[0]}/prediction", params={"domain": "x.y"}),
        422,
        "unknown-domain",
    )
    assert "x.y" in str(wrong["detail"]) and wrong["domains"] == [BILL, HOME]
    batch = {"customers": [model_api.customers[0], "NOPE-2"]}
    assert "NOPE-2" in str(
        problem(api.post("/v1/predictions", "analyst", json=batch), 404, "customer-not-found")[
            "detail"
        ]
    )
    too_many = {"customers": [f"X-{i}" for i in range(501)]}
    field = problem(api.post("/v1/predictions", "analyst", json=too_many), 422, "invalid-request")
    assert field["errors"][0]["field"] == "body.customers"  # type: ignore[index]
    empty = api.post("/v1/predictions", "analyst", json={"customers": []})
    problem(empty, 422, "invalid-request")
    extra = api.post("/v1/predictions", "analyst", json={"customers": ["a"], "x": 1})
    problem(extra, 422, "invalid-request")


def _dissatisfied(model_api: Trained) -> str:
    """A customer the model thinks likely unhappy with the home network."""
    body = {"customers": model_api.customers[:40], "domain": HOME}
    items = model_api.api.post("/v1/predictions", "analyst", json=body).json()["items"]
    best = max(items, key=lambda i: i["domains"][0]["p_dissatisfied"])
    return str(best["customer"])


def test_explain_in_both_languages(model_api: Trained) -> None:
    api = model_api.api
    customer = _dissatisfied(model_api)
    url = f"/v1/customers/{customer}/explanation"
    en = api.get(url, params={"domain": HOME, "lang": "en", "k": 2})
    assert en.status_code == 200, en.text
    body = en.json()
    assert (body["customer"], body["domain"], body["lang"]) == (customer, HOME, "en")
    assert len(body["paths"]) <= 2 and body["sentence"] and not CJK.search(body["sentence"])
    assert body["ms"] >= 0
    for path in body["paths"]:
        assert path["cause"].startswith("cause.") and path["nodes"][0] == customer
    assert all(set(c) == {"cause", "weight", "confidence"} for c in body["causes"])
    confidence = {c["cause"]: c["confidence"] for c in body["causes"]}
    assert all(0.0 <= v <= 1.0 for v in confidence.values())
    for path in body["paths"]:  # a path carries its cause's confidence
        assert path["confidence"] == pytest.approx(confidence[path["cause"]])
    latency = {r["customer_id"]: r["Latency"] for r in csv.DictReader(io.StringIO(
        reasoning_csv(REASONING_CUSTOMERS, REASONING_UNLABELLED).decode("utf-8")))}
    tags = [e for p in body["paths"] for e in p["evidence"] if e["kind"] == "tag"]
    assert tags and all(  # tag evidence quotes the customer's own stored value
        float(e["value"]) == pytest.approx(float(latency[customer])) for e in tags)
    zh = api.get(url, params={"domain": HOME, "lang": "zh"}).json()
    assert zh["lang"] == "zh" and CJK.search(zh["sentence"])
    assert zh["p_dissatisfied"] == pytest.approx(body["p_dissatisfied"])


def test_explain_reports_only_causes_above_the_asked_confidence(model_api: Trained) -> None:
    api = model_api.api
    customer = _dissatisfied(model_api)
    url = f"/v1/customers/{customer}/explanation"
    every = api.get(url, params={"domain": HOME, "min_confidence": 0}).json()
    default = api.get(url, params={"domain": HOME}).json()
    assert every["causes"] and not every["no_strong_driver"]
    assert all(c["confidence"] >= MIN_CONFIDENCE for c in default["causes"])
    assert {c["cause"] for c in default["causes"]} <= {c["cause"] for c in every["causes"]}
    bar = max(c["confidence"] for c in every["causes"]) + 1e-6
    assert bar < 1.0  # tag evidence: its attributable fraction is never certainty
    none = api.get(url, params={"domain": HOME, "min_confidence": bar}).json()
    assert none["no_strong_driver"] and none["paths"] == [] and none["causes"] == []
    assert none["p_dissatisfied"] == pytest.approx(every["p_dissatisfied"])
    for bad in ("-0.1", "1.5", "nan", "high"):
        field = problem(api.get(url, params={"domain": HOME, "min_confidence": bad}), 422,
                        "invalid-request")
        assert field["errors"][0]["field"] == "query.min_confidence"  # type: ignore[index]


def test_explain_errors(model_api: Trained) -> None:
    api, customer = model_api.api, model_api.customers[0]
    url = f"/v1/customers/{customer}/explanation"
    no_domain = problem(api.get(url), 422, "unknown-domain")
    assert HOME in str(no_domain["detail"]) and BILL in str(no_domain["detail"])
    problem(api.get(url, params={"domain": "domain.nope"}), 422, "unknown-domain")
    bad_lang = problem(api.get(url, params={"domain": HOME, "lang": "fr"}), 422, "invalid-request")
    assert bad_lang["errors"][0]["field"] == "query.lang"  # type: ignore[index]
    problem(api.get(url, params={"domain": HOME, "k": 0}), 422, "invalid-request")
    problem(api.get(url, params={"domain": HOME, "k": 21}), 422, "invalid-request")
    gone = api.get("/v1/customers/NOPE-3/explanation", params={"domain": HOME})
    assert "NOPE-3" in str(problem(gone, 404, "customer-not-found")["detail"])


def test_recommend_one_and_batch(model_api: Trained) -> None:
    api = model_api.api
    customer = _dissatisfied(model_api)
    url = f"/v1/customers/{customer}/recommendations"
    one = api.get(url, params={"domain": HOME, "k": 2})
    assert one.status_code == 200, one.text
    body = one.json()
    assert (body["customer"], body["domain"]) == (customer, HOME)
    actions = body["actions"]
    assert 1 <= len(actions) <= 2 and {a["strategy"] for a in actions} <= STRATEGIES
    assert [a["score"] for a in actions] == sorted((a["score"] for a in actions), reverse=True)
    for action in actions:
        assert 0 < action["acceptance_rate"] < 1 and action["sentence"]
    zh = api.get(url, params={"domain": HOME, "k": 2, "lang": "zh"}).json()["actions"]
    assert CJK.search(zh[0]["sentence"])
    batch = {"customers": model_api.customers[:5], "domain": HOME, "k": 1, "cost_aware": True}
    answer = api.post("/v1/recommendations", "analyst", json=batch)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [i["customer"] for i in items] == model_api.customers[:5]
    assert all(len(i["actions"]) <= 1 and i["domain"] == HOME for i in items)
    bad = {"customers": [customer, "NOPE-4"], "domain": HOME}
    problem(api.post("/v1/recommendations", "analyst", json=bad), 404, "customer-not-found")
    problem(api.post("/v1/recommendations", "analyst", json={"customers": [customer]}), 422,
            "unknown-domain")


def test_drivers(model_api: Trained) -> None:
    api = model_api.api
    answer = api.get("/v1/drivers", params={"domain": HOME, "k": 3})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["domain"] == HOME and body["segment"] is None
    assert 1 <= len(body["items"]) <= 3
    first = body["items"][0]
    assert first["cause"].startswith("cause.") and first["low"] <= first["high"]
    assert first["customers"] >= REASONING_CUSTOMERS // 2
    contributions = [d["contribution"] for d in body["items"]]
    assert contributions == sorted(contributions, reverse=True)
    missing = api.get("/v1/drivers", params={"domain": HOME, "segment": "segment.nope"})
    assert "segment.nope" in str(problem(missing, 404, "node-not-found")["detail"])
    problem(api.get("/v1/drivers", params={"domain": "nope"}), 422, "unknown-domain")


def test_model_info_and_metrics(model_api: Trained) -> None:
    api = model_api.api
    info = api.get("/v1/model")
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["model_id"] == model_api.model_id and body["domains"] == [BILL, HOME]
    assert body["schema_fingerprint"] and body["loaded_at"] and body["model_config"]["hidden"] == 16
    assert set(body["metrics"]) == {BILL, HOME}
    assert api.client.get("/readyz").json()["checks"]["model"] == "ok"
    api.get(f"/v1/customers/{model_api.customers[1]}/prediction")
    text = api.client.get("/metrics").text
    count = re.search(r'needgraph_inference_seconds_count\{op="predict"\} (\d+)', text)
    assert count and int(count.group(1)) >= 1
    assert "needgraph_model_loaded 1.0" in text
