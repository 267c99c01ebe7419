"""The request middleware in process: an unexpected error is a clean 500, logged without data."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.testclient import TestClient

from needgraph.api.metrics import ApiMetrics
from needgraph.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from needgraph.api.problems import install_problem_handlers


def _app() -> tuple[FastAPI, ApiMetrics]:
    app = FastAPI()
    metrics = ApiMetrics()

    @app.get("/boom/{customer}")
    def boom(customer: str) -> None:
        raise RuntimeError(f"secret detail about {customer}")

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, default_limit=64)
    app.add_middleware(RequestContextMiddleware, metrics=metrics, routes=app.router.routes)
    return app, metrics


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_unexpected_error_is_a_problem_and_logs_no_data() -> None:
    app, metrics = _app()
    collect = _Collect()
    logger = logging.getLogger("needgraph.api")
    logger.addHandler(collect)
    try:
        with TestClient(app, raise_server_exceptions=False) as client:
            answer = client.get("/boom/C-4711", headers={"X-Request-ID": "abc-123"})
    finally:
        logger.removeHandler(collect)
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["x-request-id"] == "abc-123"
    assert answer.json()["type"].endswith("/internal") and "secret" not in answer.text
    [record] = [r for r in collect.records if r.getMessage() == "unexpected error"]
    assert record.error_type == "RuntimeError"  # type: ignore[attr-defined]
    assert record.route == "/boom/{customer}"  # type: ignore[attr-defined]
    assert "C-4711" not in str(vars(record)) and "secret" not in str(vars(record))
    text = metrics.render().decode()
    assert 'route="/boom/{customer}",status="500"' in text


def test_body_limit_in_process() -> None:
    app, _metrics = _app()
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": "b"}).json() == {"a": "b"}
        big = client.post("/echo", json={"a": "b" * 100})
        assert big.status_code == 413 and big.json()["limit"] == 64
        assert big.headers["x-request-id"]
