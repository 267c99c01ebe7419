"""Ingest jobs over HTTP: multipart upload, background run, report, listing, refusals."""

from __future__ import annotations

import time
from typing import Any

from tests.api.conftest import UPLOAD_LIMIT, Api, problem
from tests.api.mini import MAPPING, customers_csv


def _submit(api: Api, files: dict[str, Any], data: dict[str, str] | None = None) -> Any:
    return api.client.post("/v1/ingest-jobs", headers=api.headers("admin"), files=files,
                           data=data or {})


def _wait(api: Api, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = api.get(location, "admin").json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_ingest_job_with_named_mapping(api: Api) -> None:
    files = {"file": ("customers.csv", customers_csv(20, start=1000), "text/csv")}
    accepted = _submit(api, files, {"mapping": "api_test"})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "queued" and job["mapping"] == "api_test"
    assert job["submitted_by"] == "test-admin" and job["filename"] == "customers.csv"
    location = accepted.headers["location"]
    assert location == f"/v1/ingest-jobs/{job['id']}"
    done = _wait(api, location)
    assert done["status"] == "done", done
    [report] = done["reports"]
    assert (report["rows_read"], report["rows_written"], report["rows_quarantined"]) == (20, 18, 2)
    assert report["file"] == "customers.csv" and report["kinds"] == ["tags"]
    assert "report_path" not in report and "store" not in report
    customer = api.get("/v1/nodes/Customer/C-01000/neighbourhood", params={"rel_types": "HAS_TAG"})
    assert customer.status_code == 200
    assert {n["key"] for n in customer.json()["items"]} == {
        "tag.tenure_months=lt_12m", "tag.evening_latency_ms=low"}
    listed = api.get("/v1/ingest-jobs", "admin", params={"status": "done", "limit": 500}).json()
    assert job["id"] in {j["id"] for j in listed["items"]}
    # the uploaded data (personal data) is gone once the job ended
    assert not list((api.root / "data" / "ingest" / job["id"]).rglob("customers.csv"))


def test_ingest_job_with_uploaded_mapping_and_paging(api: Api) -> None:
    ids = []
    for start in (2000, 2100):
        files = {
            "file": ("batch.csv", customers_csv(5, start=start), "text/csv"),
            "mapping_file": ("mapping.yaml", MAPPING.encode(), "application/yaml"),
        }
        accepted = _submit(api, files, {"kind": "tags", "withhold_labels": "true"})
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["mapping"] == "upload"
        ids.append(accepted.json()["id"])
        assert _wait(api, accepted.headers["location"])["status"] == "done"
    first = api.get("/v1/ingest-jobs", "admin", params={"limit": 1}).json()
    second = api.get("/v1/ingest-jobs", "admin", params={"limit": 1, "offset": 1}).json()
    assert first["total"] >= 2 and first["items"][0]["id"] == ids[1]
    assert second["items"][0]["id"] == ids[0]


def test_ingest_refusals(api: Api) -> None:
    csv = ("customers.csv", customers_csv(3), "text/csv")
    unknown = problem(_submit(api, {"file": csv}, {"mapping": "nope"}), 422, "invalid-request")
    assert str(unknown["detail"]).startswith("body.mapping: no mapping named 'nope'")
    both = _submit(api, {"file": csv, "mapping_file": ("m.yaml", MAPPING.encode())},
                   {"mapping": "api_test"})
    problem(both, 422, "invalid-request")
    no_file = api.client.post("/v1/ingest-jobs", headers=api.headers("admin"),
                              files={"mapping_file": ("m.yaml", MAPPING.encode())})
    assert str(problem(no_file, 422, "invalid-request")["detail"]).startswith("body.file")
    bad_kind = problem(_submit(api, {"file": csv}, {"kind": "dreams"}), 422, "invalid-request")
    assert bad_kind["errors"][0]["field"] == "body.kind"  # type: ignore[index]
    bad_mapping = _submit(api, {"file": csv, "mapping_file": ("m.yaml", b"files: [[[")})
    problem(bad_mapping, 422, "ingest-mapping")
    garbage = _submit(api, {"file": ("x.bin", bytes(range(256)) * 4, "application/octet-stream")})
    assert garbage.status_code == 422, garbage.text
    not_multipart = api.client.post("/v1/ingest-jobs", headers=api.headers("admin"),
                                    json={"mapping": "api_test"})
    problem(not_multipart, 422, "invalid-request")
    too_big = _submit(api, {"file": ("big.csv", b"x" * (UPLOAD_LIMIT + 1), "text/csv")})
    problem(too_big, 413, "payload-too-large")
    problem(api.get("/v1/ingest-jobs/nope", "admin"), 404, "ingest-job-not-found")
    problem(api.get("/v1/ingest-jobs", "admin", params={"status": "odd"}), 422, "invalid-request")
