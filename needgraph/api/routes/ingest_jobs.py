"""Ingest jobs (admin): upload a file with a mapping, poll the job and its reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi import status as http_status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from needgraph.api.deps import IngestAdmin, IngestDep, PageDep
from needgraph.api.schemas.common import Page, page_of
from needgraph.api.schemas.ingest import IngestJobCreate, IngestJobPublic, JobStatus

router = APIRouter(prefix="/ingest-jobs", tags=["ingest"])
JobId = Annotated[str, Path(max_length=64, examples=["9b2f4c1e0a7d4e55b6c3a1f2e3d4c5b6"])]
_FORM_SCHEMA = {
    "type": "object",
    "required": ["file"],
    "properties": {
        "file": {
            "type": "string",
            "format": "binary",
            "description": "the data: .csv (any encoding), .jsonl or .parquet",
        },
        "mapping": {
            "type": "string",
            "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
            "description": "a mapping of the service's mappings folder, e.g. ibm_telco",
        },
        "mapping_file": {
            "type": "string",
            "format": "binary",
            "description": "a mapping YAML (instead of `mapping`)",
        },
        "kind": {"type": "string", "enum": ["tags", "text", "strategies", "labels"]},
        "encoding": {"type": "string", "maxLength": 40, "pattern": r"^[A-Za-z0-9_.:-]+$"},
        "withhold_labels": {"type": "boolean", "default": False},
        "resume": {"type": "boolean", "default": False},
    },
    "additionalProperties": False,
}


def _options(fields: dict[str, str]) -> dict[str, Any]:
    given = {name: value for name, value in fields.items() if value != ""}
    try:
        return IngestJobCreate.model_validate(given).model_dump()
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None


@router.post(
    "",
    status_code=http_status.HTTP_202_ACCEPTED,
    response_model=IngestJobPublic,
    summary="Submit an ingest job (multipart upload)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": _FORM_SCHEMA}},
        }
    },
)
async def submit_job(
    request: Request, response: Response, runner: IngestDep, admin: IngestAdmin
) -> dict[str, Any]:
    """Upload a data file and queue it for ingest.

    Send the data as `file` with a named mapping (`mapping`), an uploaded one (`mapping_file`), or
    neither (the ingest package's conventions). The submission is checked at once (422/409); the
    job then runs in the background: poll `Location`.
    """
    job_id, folder = await run_in_threadpool(runner.new_folder)
    body = folder / "body.part"
    try:
        with body.open("wb") as handle:
            async for chunk in request.stream():
                handle.write(chunk)
        record = await run_in_threadpool(
            runner.submit,
            job_id,
            folder,
            body,
            request.headers.get("content-type"),
            _options,
            admin.name,
        )
    except BaseException:
        await run_in_threadpool(runner.discard, folder)
        raise
    response.headers["Location"] = f"/v1/ingest-jobs/{job_id}"
    return record.public()


@router.get("", response_model=Page[IngestJobPublic], summary="List ingest jobs")
def list_jobs(
    runner: IngestDep,
    admin: IngestAdmin,
    paging: PageDep,
    status: Annotated[JobStatus | None, Query(description="only jobs with this status")] = None,
) -> dict[str, Any]:
    """Jobs submitted through the API, newest first (the last 500 are kept)."""
    records = runner.list_jobs(status)
    items = [r.public() for r in records[paging.offset : paging.offset + paging.limit]]
    return page_of(items, len(records), paging.limit, paging.offset)


@router.get("/{job_id}", response_model=IngestJobPublic, summary="One ingest job and its reports")
def get_job(job_id: JobId, runner: IngestDep, admin: IngestAdmin) -> dict[str, Any]:
    """The job's status and, once done, one report per file it ingested."""
    return runner.get(job_id).public()
