"""Checks and caches shared by real-time events and outcomes (:mod:`needgraph.ingest.events`).

Validation helpers raise :class:`~needgraph.errors.EventValidationError` whose detail starts with
``field=value`` (personal data masked) and whose hint says how to fix it; the store's ontology
and the project's text linker are cached per ontology version.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import threading
import weakref
from datetime import UTC, datetime

from needgraph.errors import EventValidationError
from needgraph.graph.base import GraphStore
from needgraph.ingest.privacy import mask_pii
from needgraph.ingest.text_port import TextAnalyser, TextPipeline
from needgraph.ingest.values import parse_time
from needgraph.ontology.core import Ontology

DATASET = "events"  #: ``Customer.source`` of customers first seen in an event or outcome
MAX_TEXT = 10_000  #: characters of event text accepted
_CONCEPTS_HINT = ("list them with GET /v1/concepts?kind={kind} or "
                  "`needgraph ontology export -f yaml`")
_ONTOLOGIES: weakref.WeakKeyDictionary[GraphStore, tuple[str, Ontology]] = (
    weakref.WeakKeyDictionary())
"""Ontology version and ontology per open store object; an entry goes with its store."""
_PIPELINES: dict[str, TextPipeline] = {}  # least recently used first
KEPT_PIPELINES = 2  #: text pipelines (ontology versions) kept loaded
_LOCK = threading.Lock()


def store_ontology(store: GraphStore) -> tuple[Ontology, str]:
    """The store's ontology and its version record (cached per store and version)."""
    from needgraph.ingest.jobs import require_ontology
    from needgraph.ontology.versioning import VERSION_KEY

    version = store.get_meta(VERSION_KEY) or ""
    cached = _ONTOLOGIES.get(store)
    if cached is not None and cached[0] == version:
        return cached[1], version
    found = require_ontology(store)
    with _LOCK:
        _ONTOLOGIES[store] = (version, found)
    return found, version


def default_pipeline(ontology: Ontology, version: str) -> TextPipeline:
    """The project's text linker with embeddings, loaded once per ontology version.

    The :data:`KEPT_PIPELINES` most recently used versions are kept: ontology edits do not pile
    up linkers and their embedding models (~350 MB each) for the life of the process.
    """
    with _LOCK:
        found = _PIPELINES.pop(version, None)
        if found is None:
            from needgraph.ingest.text_port import default_text_pipeline

            found = default_text_pipeline(ontology)
        _PIPELINES[version] = found  # now the most recently used
        while len(_PIPELINES) > KEPT_PIPELINES:
            del _PIPELINES[next(iter(_PIPELINES))]
        return found


def preload_pipeline(store: GraphStore) -> TextPipeline:
    """Build the default text pipeline of the store's ontology and warm it up, now.

    A server does this while it loads its model, so the first text event it answers does not
    load jieba, the embedding model and the label embeddings (about 10 s) on the request.

    Raises:
        OntologyNotLoadedError: The store holds no ontology.
        MissingNlpExtraError: spaCy/jieba/sentence-transformers are not installed.
    """
    ontology, version = store_ontology(store)
    pipeline = default_pipeline(ontology, version)
    warm_up = getattr(pipeline.analyser, "warm_up", None)
    if callable(warm_up):
        warm_up()
    return pipeline


def pipeline_for(linker: TextAnalyser | TextPipeline | None, ontology: Ontology,
                 version: str) -> TextPipeline:
    """The text pipeline of an event: ``linker`` as given, wrapped, or the default one."""
    if isinstance(linker, TextPipeline):
        return linker
    if linker is None:
        return default_pipeline(ontology, version)
    embedder = getattr(linker, "embedder", None)
    return TextPipeline(linker, None, getattr(embedder, "model_name", None))


def when(moment: datetime | None) -> str:
    """``moment`` (naive = UTC; ``None`` = now) as an ISO-8601 UTC timestamp."""
    return parse_time(moment if moment is not None else datetime.now(UTC))


def derive_id(*parts: object) -> str:
    """An idempotency key derived from content: 24 hex chars of SHA-256."""
    text = json.dumps([p if p is None or isinstance(p, int | float | str) else str(p)
                       for p in parts], ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def bad(field_name: str, value: object, problem: str, fix: str) -> EventValidationError:
    """The error for one field: ``field=value: problem`` (value masked, shortened) and the fix."""
    shown = mask_pii(str(value))[:120] if value is not None else "null"
    return EventValidationError(f"{field_name}={shown!r}: {problem}", hint=fix,
                                field=field_name)


def concept_id(ontology: Ontology, field_name: str, value: object, kinds: tuple[str, ...]) -> str:
    """The id of a concept of one of ``kinds``, or an error naming close matches."""
    cid = str(value).strip() if value is not None else ""
    concept = ontology.get(cid) if cid else None
    if concept is not None and concept.kind in kinds and not concept.deprecated:
        return cid
    ids = [c.id for kind in kinds for c in ontology.by_kind(kind) if not c.deprecated]
    close = difflib.get_close_matches(cid, ids, n=3, cutoff=0.5)
    fix = f"use a {' or '.join(kinds)} id of the ontology"
    fix += f" (did you mean {', '.join(close)}?)" if close else ""
    fix += "; " + _CONCEPTS_HINT.format(kind=kinds[0])
    state = "deprecated" if concept is not None and concept.deprecated else "unknown"
    raise bad(field_name, value, f"{state} {' / '.join(kinds)}", fix)


def customer_id(raw: object) -> str:
    """A customer id, trimmed (non-empty string of at most 200 chars)."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        raise bad("customer", raw, "not a customer id",
                  "give the operator's customer id, a non-empty string of at most 200 chars")
    return raw.strip()


def text_value(raw: str | None, required: bool) -> str | None:
    """The event text, trimmed and masked (``None`` when absent and not required)."""
    if raw is None or not str(raw).strip():
        if required:
            raise bad("text", raw, "missing", "give the customer's text (zh or en)")
        return None
    if len(raw) > MAX_TEXT:
        raise bad("text", f"<{len(raw)} chars>", "too long", f"send at most {MAX_TEXT} chars")
    return mask_pii(raw.strip())


def lang_value(raw: str | None) -> str | None:
    """``zh``, ``en`` or ``None`` (detect)."""
    if raw is None or raw in ("zh", "en"):
        return raw
    raise bad("lang", raw, "unsupported language", "use zh, en, or leave it out to detect")


def score_value(field_name: str, raw: object, required: bool) -> int | None:
    """A whole 1-5 score (``None`` when absent and not required)."""
    if raw is None and not required:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 5:
        raise bad(field_name, raw, "not a 1-5 score", "give a whole number from 1 to 5")
    return raw
