"""The loaded model: what it is (``read``), and reloading it from disk (``train`` scope, admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needgraph.api.deps import ModelSlotDep, Reader, Trainer
from needgraph.api.schemas.reasoning import ModelInfoPublic

router = APIRouter(prefix="/model", tags=["model"])


@router.get("", response_model=ModelInfoPublic, summary="The model that answers")
def model_info(caller: Reader, slot: ModelSlotDep) -> dict[str, Any]:
    """Provenance of the loaded model.

    Its id, training time, ontology version, schema and data
    fingerprints, domains, validation metrics per domain, configurations. 503 without one.
    """
    return slot.info()


@router.post("/reload", response_model=ModelInfoPublic, summary="Load the model from disk again")
def reload_model(caller: Trainer, slot: ModelSlotDep) -> dict[str, Any]:
    """Reload the model from disk and swap it in.

    Loads ``NEEDGRAPH_MODEL``, else the newest artifact of ``NEEDGRAPH_MODEL_DIR`` (e.g. after
    `needgraph train`), and swap it in once ready; requests in flight finish on the old one.
    The store's graph is exported again, so customers ingested since are included. 503 when no
    artifact exists, 409 when it was trained on another ontology version (the old model stays).
    """
    slot.load()
    return slot.info()
