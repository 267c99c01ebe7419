"""The request id: a context variable set per request and a logging filter that adds it.

Every log record handled by the ``needgraph`` logger's handlers carries ``request_id`` (and
``job_id`` inside an ingest worker) while the variable is set, so JSON logs of one request can be
joined. The variable follows the request into the threads FastAPI runs sync routes in.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

REQUEST_ID: ContextVar[str | None] = ContextVar("needgraph_request_id", default=None)
JOB_ID: ContextVar[str | None] = ContextVar("needgraph_job_id", default=None)
_USABLE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_from(header: str | None) -> str:
    """Return the caller's ``X-Request-ID`` when it is usable (1-128 of ``A-Za-z0-9._:-``).

    Otherwise return a new random id (32 hex digits), so nothing odd reaches the logs.
    """
    if header and _USABLE.match(header):
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds ``request_id`` / ``job_id`` to records when they are set (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; always keep it."""
        request_id = REQUEST_ID.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        job_id = JOB_ID.get()
        if job_id is not None and not hasattr(record, "job_id"):
            record.job_id = job_id
        return True


def install_context_filter(logger_name: str = "needgraph") -> None:
    """Attach one :class:`ContextFilter` to every handler of ``logger_name`` (idempotent)."""
    for handler in logging.getLogger(logger_name).handlers:
        if not any(isinstance(f, ContextFilter) for f in handler.filters):
            handler.addFilter(ContextFilter())
