"""Real-time events and action outcomes over HTTP, against the real model and store."""

from __future__ import annotations

import re
import uuid
from typing import Any

from tests.api.conftest import REASONING_CUSTOMERS, REASONING_UNLABELLED, Api, Trained, problem
from tests.api.reasoning_data import quiet_customers

HOME = "domain.home_net"
COMPLAINT = "晚上网速慢，看视频一直卡，卧室还是WiFi死角，太差了"




def _p_home(body: dict[str, Any]) -> float:
    return float(next(d for d in body["domains"] if d["domain"] == HOME)["p_dissatisfied"])


def _utterances(api: Api, customer: str) -> int:
    answer = api.get(f"/v1/nodes/Customer/{customer}/neighbourhood",
                     params={"rel_types": "SAID", "labels": "Utterance", "direction": "out"})
    assert answer.status_code == 200, answer.text
    return int(answer.json()["total"])


def _event(api: Api, body: dict[str, Any], role: str = "engine", **params: Any) -> Any:
    return api.post("/v1/events", role, json=body, params=params)


def test_complaint_event_raises_dissatisfaction_once(model_api: Trained) -> None:
    api = model_api.api
    customer = quiet_customers(REASONING_CUSTOMERS, REASONING_UNLABELLED)[0]
    before = _p_home(api.get(f"/v1/customers/{customer}/prediction").json())
    said = _utterances(api, customer)
    event = {"event_id": f"test-{uuid.uuid4().hex}", "customer": customer,
             "kind": "complaint_text", "text": COMPLAINT, "lang": "zh"}
    first = _event(api, event, k=2, all_domains=True)
    assert first.status_code == 201, first.text
    answer = first.json()
    assert answer["event"]["created"] is True and answer["event"]["customer"] == customer
    assert "cause.evening_congestion" in answer["event"]["linked_concepts"]
    after = _p_home(answer["prediction"])
    assert after > before + 0.02, (before, after)
    assert set(answer["actions"]) == {"domain.billing", HOME}
    assert all(len(acts) <= 2 for acts in answer["actions"].values())
    assert {"wait", "record", "refresh", "predict", "recommend", "total"} <= set(answer["ms"])
    # the same event again: nothing written twice, the same answer
    again = _event(api, event, k=2, all_domains=True)
    assert again.status_code == 200, again.text
    assert again.json()["event"]["created"] is False
    assert again.json()["prediction"] == answer["prediction"]
    assert again.json()["actions"] == answer["actions"]
    assert _utterances(api, customer) == said + 1
    # the model keeps the customer's new state for every later request
    now = api.get(f"/v1/customers/{customer}/prediction").json()
    assert _p_home(now) == after
    text = api.client.get("/metrics").text
    created = re.search(r'needgraph_events_total\{kind="complaint_text",result="created"\} (\S+)',
                        text)
    assert created and float(created.group(1)) >= 1


def test_tag_change_and_survey_answer(model_api: Trained) -> None:
    api = model_api.api
    customer = quiet_customers(REASONING_CUSTOMERS, REASONING_UNLABELLED)[1]
    before = _p_home(api.get(f"/v1/customers/{customer}/prediction").json())
    changed = _event(api, {"customer": customer, "kind": "tag_change",
                           "tag": "tag.evening_latency_ms", "value": 290,
                           "event_id": f"tag-{uuid.uuid4().hex}"})
    assert changed.status_code == 201, changed.text
    assert _p_home(changed.json()["prediction"]) > before
    bins = api.get(f"/v1/nodes/Customer/{customer}/neighbourhood",
                   params={"rel_types": "HAS_TAG"}).json()["items"]
    assert "tag.evening_latency_ms=high" in {n["key"] for n in bins}
    assert "tag.evening_latency_ms=low" not in {n["key"] for n in bins}
    survey = _event(api, {"customer": customer, "kind": "survey_answer", "domain": HOME,
                          "score": 1, "event_id": f"survey-{uuid.uuid4().hex}"})
    assert survey.status_code == 201, survey.text
    home = next(d for d in survey.json()["prediction"]["domains"] if d["domain"] == HOME)
    assert home["label"] == 1


def test_event_for_a_new_customer(model_api: Trained) -> None:
    api = model_api.api
    customer = f"NEW-{uuid.uuid4().hex[:10]}"
    answer = _event(api, {"customer": customer, "kind": "complaint_text",
                          "text": "the internet is so slow in the evening", "lang": "en"})
    assert answer.status_code == 201, answer.text
    assert answer.json()["event"]["new_customer"] is True
    assert answer.json()["prediction"]["customer"] == customer
    assert api.get(f"/v1/customers/{customer}/prediction").status_code == 200


def test_event_refusals(model_api: Trained) -> None:
    api = model_api.api
    customer = model_api.customers[0]
    unknown_tag = _event(api, {"customer": customer, "kind": "tag_change", "tag": "tag.nope",
                               "value": 3})
    assert "tag" in str(problem(unknown_tag, 422, "event-validation")["detail"])
    bad_value = _event(api, {"customer": customer, "kind": "tag_change",
                             "tag": "tag.evening_latency_ms", "value": "fast"})
    problem(bad_value, 422, "event-validation")
    no_text = _event(api, {"customer": customer, "kind": "complaint_text"})
    assert "text" in str(problem(no_text, 422, "event-validation")["detail"])
    wrong_field = _event(api, {"customer": customer, "kind": "complaint_text", "text": "x",
                               "score": 3})
    assert "score" in str(problem(wrong_field, 422, "event-validation")["detail"])
    bad_score = _event(api, {"customer": customer, "kind": "survey_answer", "domain": HOME,
                             "score": 7})
    field = problem(bad_score, 422, "invalid-request")["errors"][0]  # type: ignore[index]
    assert field["field"] == "body.score"
    problem(_event(api, {"customer": customer, "kind": "dream"}), 422, "invalid-request")
    problem(_event(api, {"customer": "", "kind": "complaint_text", "text": "x"}), 422,
            "invalid-request")
    too_long = {"customer": customer, "kind": "complaint_text", "text": "卡" * 10_001}
    problem(_event(api, too_long), 422, "invalid-request")


def _rate(api: Api, customer: str, strategy: str) -> float:
    answer = api.get(f"/v1/customers/{customer}/recommendations",
                     params={"domain": HOME, "k": 20})
    assert answer.status_code == 200, answer.text
    rates = {a["strategy"]: a["acceptance_rate"] for a in answer.json()["actions"]}
    return float(rates[strategy])


def test_outcomes_move_acceptance_rates_at_once(model_api: Trained) -> None:
    api = model_api.api
    customer = model_api.customers[0]
    strategy = "strategy.speed_trial"
    before = _rate(api, customer, strategy)
    tag = uuid.uuid4().hex[:8]
    for i in range(6):
        body = {"customer": f"OUT-{tag}-{i}", "strategy": strategy, "status": "accepted",
                "outcome_id": f"o-{tag}-{i}", "satisfaction_after": 5, "domain": HOME}
        answer = api.post("/v1/outcomes", "engine", json=body, params={"k": 1})
        # the outcome names its domain: actions are ranked for that domain only
        assert answer.status_code == 201, answer.text
        assert answer.json()["outcome"]["created"] is True
        assert set(answer.json()["actions"]) == {HOME}
    after = _rate(api, customer, strategy)
    assert after > before + 0.01, (before, after)
    retry = api.post("/v1/outcomes", "engine", json=body)
    assert retry.status_code == 200 and retry.json()["outcome"]["created"] is False
    assert _rate(api, customer, strategy) == after
    declined = {"customer": f"OUT-{tag}-d", "strategy": strategy, "status": "declined",
                "outcome_id": f"d-{tag}"}
    assert api.post("/v1/outcomes", "engine", json=declined).status_code == 201
    assert _rate(api, customer, strategy) < after


def test_outcome_refusals(model_api: Trained) -> None:
    api = model_api.api
    customer = model_api.customers[0]
    unknown = api.post("/v1/outcomes", "engine", json={
        "customer": customer, "strategy": "strategy.nope", "status": "accepted"})
    assert "strategy" in str(problem(unknown, 422, "event-validation")["detail"])
    no_score = api.post("/v1/outcomes", "engine", json={
        "customer": customer, "strategy": "strategy.speed_trial", "status": "accepted",
        "domain": HOME})
    problem(no_score, 422, "event-validation")
    bad_status = api.post("/v1/outcomes", "engine", json={
        "customer": customer, "strategy": "strategy.speed_trial", "status": "maybe"})
    problem(bad_status, 422, "invalid-request")
