"""Operations over HTTP: request ids in headers and JSON logs, metrics, body limits, shutdown."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.api.conftest import ADMIN_KEY, Api, problem
from tests.api.mini import customers_csv


def _log_lines(path: Path) -> list[dict[str, object]]:
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _wait_for_log(path: Path, request_id: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 5
    while True:
        found = [line for line in _log_lines(path) if line.get("request_id") == request_id]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_request_id_is_echoed_and_logged(api: Api) -> None:
    request_id = f"test-{uuid.uuid4().hex}"
    answer = api.get("/v1/concepts/cause.evening_congestion", headers={"X-Request-ID": request_id})
    assert answer.headers["x-request-id"] == request_id
    [line] = _wait_for_log(api.log_path, request_id)
    assert line["route"] == "/v1/concepts/{concept_id}" and line["status"] == 200
    assert line["key_id"] == api.key_ids["analyst"] and line["level"] == "info"
    generated = api.get("/v1/concepts?limit=1").headers["x-request-id"]
    assert len(generated) == 32
    odd = api.get("/v1/concepts?limit=1", headers={"X-Request-ID": "bad id;drop"})
    assert odd.headers["x-request-id"] != "bad id;drop" and len(odd.headers["x-request-id"]) == 32
    failed = api.get("/v1/concepts/cause.nope")
    assert failed.headers["x-request-id"] and failed.status_code == 404


def test_ingest_worker_logs_carry_the_request_id(api: Api) -> None:
    request_id = f"ingest-{uuid.uuid4().hex}"
    headers = {"X-Request-ID": request_id, **api.headers("admin")}
    files = {"file": ("c.csv", customers_csv(4, start=5000), "text/csv")}
    accepted = api.client.post("/v1/ingest-jobs", headers=headers, files=files,
                               data={"mapping": "api_test"})
    assert accepted.status_code == 202
    deadline = time.monotonic() + 30
    while api.get(accepted.headers["location"], "admin").json()["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    messages = {str(line["msg"]) for line in _wait_for_log(api.log_path, request_id)}
    assert {"ingest job queued", "ingest job started", "ingest job finished"} <= messages


def test_logs_hold_no_secrets_or_personal_data(api: Api) -> None:
    api.get("/v1/nodes/Customer/C-01000")  # a customer id in the path
    api.client.get("/v1/concepts", headers={"X-API-Key": "ngk_wrong_key_value"})
    text = api.log_path.read_text(encoding="utf-8")
    for secret in [ADMIN_KEY, "ngk_wrong_key_value", *api.keys.values()]:
        assert secret not in text
    assert "C-01000" not in text and "C-05000" not in text
    assert "Traceback" not in text


def test_metrics(api: Api) -> None:
    api.get("/v1/concepts/cause.evening_congestion")
    api.get("/v1/concepts/cause.nope")
    text = api.client.get("/metrics").text
    assert ('needgraph_http_requests_total{method="GET",route="/v1/concepts/{concept_id}",'
            'status="200"}') in text
    assert 'route="/v1/concepts/{concept_id}",status="404"' in text
    assert "needgraph_http_request_duration_seconds_bucket{" in text
    assert 'needgraph_ingest_jobs_total{status="submitted"}' in text
    assert "needgraph_ingest_rows_total" in text
    assert "cause.nope" not in text and "cause.evening_congestion" not in text


def test_body_limits(api: Api) -> None:
    big = {"why": "x" * (1024 * 1024 + 1)}
    declared = api.post("/v1/ontology/versions", json=big)
    assert "limit" in str(problem(declared, 413, "payload-too-large")["detail"])

    def chunks() -> Iterator[bytes]:
        yield b'{"why": "'
        for _ in range(20):
            yield b"y" * 65536
        yield b'"}'

    streamed = api.client.post(
        "/v1/ontology/versions",
        content=chunks(),
        headers={**api.headers("editor"), "content-type": "application/json"},
    )
    problem(streamed, 413, "payload-too-large")
    assert api.client.get("/livez").status_code == 200


def test_unknown_route_and_method(api: Api) -> None:
    problem(api.get("/v1/no-such-thing"), 404, "not-found")
    wrong = api.client.delete("/v1/concepts", headers=api.headers("admin"))
    problem(wrong, 405, "method-not-allowed")
    assert "GET" in wrong.headers["allow"]


def test_openapi_documents_security_paging_and_problems(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["ApiKey"]["name"] == "X-API-Key"
    assert "Problem" in schema["components"]["schemas"]
    ops = [(path, method, op) for path, item in schema["paths"].items()
           for method, op in item.items()]
    for path, _method, op in ops:
        if path.startswith("/v1/"):
            assert op["security"] == [{"ApiKey": []}] and op["x-required-scope"]
            assert "application/problem+json" in op["responses"]["401"]["content"]
    listing = schema["paths"]["/v1/concepts"]["get"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 500
    assert all(path.startswith(("/v1/", "/livez", "/readyz", "/metrics")) for path, _m, _o in ops)
