"""Readiness checks: what ``/readyz`` runs, in order.

``app.state.readiness_checks`` is a list of :class:`ReadinessCheck`. The app registers the store
check at start-up; other parts of the service append theirs in the same place (e.g. the reasoning
service adds ``ReadinessCheck("model", models.ensure_loaded)`` once it loads a model). A check is
a name and a callable that returns when ready and raises (ideally a
:class:`~needgraph.errors.NeedgraphError` with a hint) when not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from needgraph.errors import NeedgraphError

log = logging.getLogger("needgraph.api")


@dataclass(frozen=True)
class ReadinessCheck:
    """One thing that must work before the service takes traffic.

    Attributes:
        name: Short name shown in the ``/readyz`` answer (``store``, ``model`` ...).
        check: Returns when ready; raises when not.
    """

    name: str
    check: Callable[[], None]


class NotReadyError(NeedgraphError):
    """A readiness check failed with an error that is not a NeedgraphError."""

    type_slug = "not-ready"
    title = "Not ready"
    status = 503


def run_checks(checks: Sequence[ReadinessCheck]) -> tuple[dict[str, str], NeedgraphError | None]:
    """Run every check; return each one's outcome and the first failure (``None`` if ready)."""
    outcomes: dict[str, str] = {}
    first: NeedgraphError | None = None
    for item in checks:
        try:
            item.check()
        except NeedgraphError as exc:
            outcomes[item.name] = "failed"
            first = first or exc
        except Exception as exc:  # a check must never turn /readyz into a 500
            log.warning(
                "readiness check failed",
                extra={"check": item.name, "error_type": type(exc).__name__},
            )
            outcomes[item.name] = "failed"
            first = first or NotReadyError(f"readiness check {item.name!r} failed")
        else:
            outcomes[item.name] = "ok"
    if first is not None and first.status < 500:
        first = NotReadyError(f"readiness check failed: {first.detail}")
    return outcomes, first
