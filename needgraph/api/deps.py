"""Shared FastAPI dependencies (``Annotated`` aliases used by the routes).

Authentication: every ``/v1`` route depends on one of the role aliases below, which read the
``X-API-Key`` header, authenticate it with the app's :class:`~needgraph.security.keys.KeyRing`
(401 when missing, unknown or revoked) and check the scope the route needs (403 otherwise).

Dependencies that only read the app's state are ``async``: FastAPI runs a plain ``def``
dependency in a worker thread, one hand-off per dependency and request. With the hot routes'
single hand-off (:func:`answer_in_order`) this saved 1-2 ms of server CPU per reasoning answer
(``bench/RESULTS.md``). :func:`get_reasoner` stays a thread's work: its catch-up reads the store.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass
from types import UnionType
from typing import Annotated, Any, Concatenate, ParamSpec, TypeVar, Union, get_args, get_origin

from fastapi import Depends, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from needgraph.api.metrics import ApiMetrics
from needgraph.api.schemas.common import DEFAULT_LIMIT, MAX_LIMIT
from needgraph.api.services.ingest_jobs import IngestJobRunner
from needgraph.api.services.model_slot import ModelSlot
from needgraph.api.services.ontology_editor import OntologyEditor
from needgraph.api.settings import ApiSettings
from needgraph.config import Settings
from needgraph.graph.base import GraphStore
from needgraph.reasoning.runtime import Reasoner
from needgraph.security.keys import KeyRing, Principal
from needgraph.security.roles import Scope

P = ParamSpec("P")
T = TypeVar("T")

API_KEY_HEADER = "X-API-Key"
api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="ApiKey",
    description="An API key (`needgraph keys create --role ROLE --name NAME`). Roles: analyst "
    "(read), engine (read, events, outcomes), editor (read, ontology write), admin (all).",
    auto_error=False,
)


async def get_store(request: Request) -> GraphStore:
    """The store opened at start-up."""
    store: GraphStore = request.app.state.store
    return store


async def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_api_settings(request: Request) -> ApiSettings:
    """The API-only settings the app was built with."""
    settings: ApiSettings = request.app.state.api_settings
    return settings


async def get_editor(request: Request) -> OntologyEditor:
    """The ontology editor of the configured ontology folder."""
    editor: OntologyEditor = request.app.state.editor
    return editor


async def get_ingest(request: Request) -> IngestJobRunner:
    """The ingest job runner."""
    runner: IngestJobRunner = request.app.state.ingest
    return runner


async def get_metrics(request: Request) -> ApiMetrics:
    """The app's Prometheus metrics."""
    metrics: ApiMetrics = request.app.state.metrics
    return metrics


async def get_model_slot(request: Request) -> ModelSlot:
    """The slot holding the loaded model (or why there is none)."""
    slot: ModelSlot = request.app.state.model
    return slot


def get_reasoner(request: Request) -> Reasoner:
    """The loaded reasoner, caught up with other workers' events (503 while there is none)."""
    slot: ModelSlot = request.app.state.model
    return slot.serving()


async def answer_in_order(
    slot: ModelSlot,
    answer: Callable[Concatenate[Reasoner, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """``answer(reasoner, *args, **kwargs)`` in the slot's one answer thread, in arrival order.

    Reads use this; events use :func:`answer_first`, which goes before the waiting reads.

    The hot single-customer routes are ``async`` and call this: catching up with other
    workers' events and answering share one hand-off to a thread, and the response is
    validated on the event loop (a plain ``def`` route costs three hand-offs: the reasoner
    dependency, the route and the response validation).

    The single-item reads (prediction, explanation, recommendations) take turns on the
    reasoner's lock anyway. From a pool, the threads waiting for it are woken in no order: under
    16 clients some requests waited behind many others (a long p95 tail). One thread answers
    them first come, first served, and a request whose client left before its turn is
    dropped unanswered (``bench/RESULTS.md``, "Closed-form star, reads in arrival order, even
    connections").

    Raises:
        ModelNotLoadedError: No model is loaded (503).
    """
    return await _queued(slot, slot.answers.submit,
                         lambda reasoner: answer(reasoner, *args, **kwargs))


async def answer_first(
    slot: ModelSlot,
    answer: Callable[Concatenate[Reasoner, P], T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Like :func:`answer_in_order`, but before the reads waiting in the answer thread.

    For real-time events: under read load up to ``clients / workers`` reads wait in a worker's
    answer queue, and an event's answer is its latency target's whole point (see
    :class:`~needgraph.api.services.answer_queue.AnswerQueue`, which keeps a stream of events
    from starving the reads).

    Raises:
        ModelNotLoadedError: No model is loaded (503).
    """
    return await _queued(slot, slot.answers.submit_urgent,
                         lambda reasoner: answer(reasoner, *args, **kwargs))


def _queued(slot: ModelSlot, submit: Callable[..., Future[T]],
            call: Callable[[Reasoner], T]) -> asyncio.Future[T]:
    """``call(reasoner)`` queued by ``submit`` in the answer thread, caught up first."""
    context = contextvars.copy_context()  # the request id reaches the thread's log records
    return asyncio.wrap_future(submit(context.run, lambda: call(slot.serving())))


async def get_principal(
    request: Request, key: Annotated[str | None, Security(api_key_header)]
) -> Principal:
    """Authenticate the request's API key (401 problem when missing, unknown or revoked).

    From the key ring's cache on the event loop; in a worker thread when the records must be
    read from the store first (every few seconds), so a slow store never stalls the loop.
    """
    keyring: KeyRing = request.app.state.keyring
    if keyring.reads_store(key):
        principal = await run_in_threadpool(keyring.authenticate, key)
    else:
        principal = keyring.authenticate(key)
    request.state.key_id = principal.key_id
    return principal


SCOPE_OF: dict[Callable[..., Awaitable[Principal]], Scope] = {}
"""The scope each role dependency checks (the OpenAPI builder documents it per operation)."""


def require(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """Return a dependency that lets only callers whose role grants ``scope`` through (403)."""

    async def dependency(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        KeyRing.authorise(principal, scope)
        return principal

    dependency.__name__ = f"require_{scope.name}"
    SCOPE_OF[dependency] = scope
    return dependency


_LIST_PARAMS: dict[int, frozenset[str]] = {}


def _takes_many(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    return origin in (Union, UnionType) and any(_takes_many(a) for a in get_args(annotation))


def _list_params(route: Any) -> frozenset[str]:
    found = _LIST_PARAMS.get(id(route))
    if found is None:
        names: set[str] = set()
        pending = [getattr(route, "dependant", None)]
        while pending:
            dependant = pending.pop()
            if dependant is None:
                continue
            names |= {
                p.alias for p in dependant.query_params if _takes_many(p.field_info.annotation)
            }
            pending.extend(dependant.dependencies)
        found = frozenset(names)
        _LIST_PARAMS[id(route)] = found
    return found


async def reject_repeated_query(request: Request) -> None:
    """Refuse a single-valued query parameter given more than once (422 naming it).

    FastAPI would silently keep the last value; a client sending two is confused.
    """
    names = [name for name, _value in request.query_params.multi_items()]
    repeated = {name for name in names if names.count(name) > 1}
    if not repeated:
        return
    wrong = sorted(repeated - _list_params(request.scope.get("route")))
    if wrong:
        raise RequestValidationError(
            [
                {
                    "type": "repeated",
                    "loc": ("query", wrong[0]),
                    "msg": "given more than once; this parameter takes one value",
                    "input": None,
                }
            ]
        )


@dataclass(frozen=True)
class PageParams:
    """Paging of a list: at most ``limit`` items from ``offset`` on."""

    limit: int
    offset: int


async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"page size (1-{MAX_LIMIT})")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="index of the first item")] = 0,
) -> PageParams:
    """Read ``limit`` and ``offset``."""
    return PageParams(limit, offset)


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]
EditorDep = Annotated[OntologyEditor, Depends(get_editor)]
IngestDep = Annotated[IngestJobRunner, Depends(get_ingest)]
PageDep = Annotated[PageParams, Depends(page_params)]
MetricsDep = Annotated[ApiMetrics, Depends(get_metrics)]
ModelSlotDep = Annotated[ModelSlot, Depends(get_model_slot)]
ReasonerDep = Annotated[Reasoner, Depends(get_reasoner)]
"""The loaded reasoner; declare it after the role alias so 401/403 come before 503."""

Reader = Annotated[Principal, Depends(require(Scope.read))]
OntologyWriter = Annotated[Principal, Depends(require(Scope.ontology_write))]
IngestAdmin = Annotated[Principal, Depends(require(Scope.ingest))]
KeysAdmin = Annotated[Principal, Depends(require(Scope.keys))]
EventSender = Annotated[Principal, Depends(require(Scope.events))]
OutcomeSender = Annotated[Principal, Depends(require(Scope.outcomes))]
Trainer = Annotated[Principal, Depends(require(Scope.train))]
