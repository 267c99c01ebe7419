"""Ingest jobs submitted through the API, and the reports the ingest package produces."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from needgraph.api.problems import PROBLEM_BASE

JobStatus = Literal["queued", "running", "done", "failed", "interrupted"]
IngestKind = Literal["tags", "text", "strategies", "labels"]


class IngestJobCreate(BaseModel):
    """The text fields of an ingest upload.

    The multipart form's ``file`` and ``mapping_file`` parts carry the data file and an optional
    mapping YAML.
    """

    model_config = ConfigDict(extra="forbid")
    mapping: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
        description="name of a mapping in the service's mappings folder (without .yaml)",
    )
    kind: IngestKind | None = Field(None, description="only this record kind")
    encoding: str | None = Field(None, max_length=40, pattern=r"^[A-Za-z0-9_.:-]+$")
    withhold_labels: bool = False
    resume: bool = Field(False, description="continue the job after its last committed batch")


class JobReportPublic(BaseModel):
    """What one ingest job read, wrote and quarantined (the ingest package's JobReport)."""

    job_id: str
    dataset: str
    file: str = Field(description="name of the uploaded file")
    kinds: list[str]
    status: str
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    problems: int = 0
    counts: dict[str, dict[str, int]] = Field(default_factory=dict)
    batches: int = 0
    resumed_from_row: int | None = None
    started_at: str = ""
    duration_s: float = 0.0
    rows_per_s: float = 0.0
    labels_withheld: bool = False
    unmapped_columns: list[str] = Field(default_factory=list)
    error: str | None = None


class JobErrorPublic(BaseModel):
    """Why a job failed, as a problem document (without ``instance``)."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(examples=[PROBLEM_BASE + "ingest-mapping"])
    title: str
    status: int
    detail: str
    hint: str | None = None


class IngestJobPublic(BaseModel):
    """An ingest job submitted through the API."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9b2f4c1e0a7d4e55b6c3a1f2e3d4c5b6",
                    "status": "done",
                    "filename": "customers_tags.csv",
                    "mapping": "ibm_telco",
                    "kind": None,
                    "submitted_by": "ops-admin",
                    "submitted_at": "2025-01-31T09:15:00Z",
                    "started_at": "2025-01-31T09:15:01Z",
                    "finished_at": "2025-01-31T09:15:09Z",
                    "bytes": 1048576,
                    "reports": [],
                    "error": None,
                }
            ]
        }
    )
    id: str
    status: JobStatus
    filename: str
    mapping: str | None = Field(None, description="mapping name, 'upload', or null (conventions)")
    kind: str | None = None
    submitted_by: str
    submitted_at: str
    started_at: str | None = None
    finished_at: str | None = None
    bytes: int = Field(ge=0, description="size of the uploaded file")
    reports: list[JobReportPublic] = Field(default_factory=list)
    error: JobErrorPublic | None = None
