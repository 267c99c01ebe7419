"""Versioned model artifacts: save and load a trained ``SatisfactionModel`` with its provenance.

An artifact is one ``torch.save`` file of plain containers and tensors (loaded back with
``torch.load(weights_only=True)``, so opening a file never runs code from it):

* ``version`` (artifact format), ``schema`` (the feature schema's canonical JSON) and its
  ``fingerprint``; ``model_config``, ``train_config``, ``in_dims``, ``members`` (one
  ``state_dict`` per ensemble member), ``epochs``, ``label_index``;
* ``info``: the :class:`ModelInfo` - ``model_id``, ``created_at``, ``needgraph_version``, the
  ``ontology_version`` of the store it was trained on, a ``data_fingerprint`` of the training
  graph, the validation ``metrics`` and the number of customers trained on.

:func:`load_model` refuses a file of another format version, a schema that does not match its
fingerprint, and - given a store - a model trained on another ontology version
(:class:`~needgraph.errors.ModelMismatchError`). This module imports torch only when it saves or
loads, so :class:`ModelInfo` and :func:`read_info` are cheap to import.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needgraph.errors import ModelMismatchError, ModelNotFoundError
from needgraph.reasoning.features import FeatureSchema

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.model import SatisfactionGNN
    from needgraph.reasoning.train import SatisfactionModel

ARTIFACT_VERSION = 2
#: File name of the pointer to the newest artifact inside a model directory.
LATEST = "latest"


@dataclass
class ModelInfo:
    """Provenance of a trained model (what ``GET /v1/model`` and ``needgraph train`` show).

    Attributes:
        path: Artifact file (empty until saved or loaded).
        model_id: Unique id, ``<UTC timestamp>-<6 hex>``, also in the file name.
        created_at: ISO-8601 UTC time of training.
        needgraph_version: Package version that trained it.
        ontology_version: Ontology version of the training store (``None``: none loaded, or
            saved without a store - then no ontology check is made).
        schema_fingerprint: :meth:`FeatureSchema.fingerprint` of its features.
        data_fingerprint: Hash of the training graph (see :func:`data_fingerprint`).
        domains: Predicted domains (exactly those with labels at training time).
        metrics: Per domain ``{"mae", "auc", "macro_f1", "n"}`` on the inner validation folds.
        model_config: Architecture settings.
        train_config: Optimisation settings.
        customers_trained: Labelled customers whose labels entered the loss.
    """

    model_id: str
    created_at: str
    needgraph_version: str
    schema_fingerprint: str
    domains: list[str]
    ontology_version: str | None = None
    data_fingerprint: str | None = None
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)
    train_config: dict[str, Any] = field(default_factory=dict)
    customers_trained: int = 0
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def new_model_id() -> str:
    """A sortable unique id: ``20260523T041500Z-a1b2c3``."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def data_fingerprint(store: GraphStore, data: HeteroData, schema: FeatureSchema) -> str:
    """Deterministic hash of the training graph.

    Covers node counts per label and relationship counts per type of ``store``, the labelled
    ``(customer, domain)`` pairs of ``data`` and the schema fingerprint - equal graphs give equal
    fingerprints on every backend.

    Returns:
        ``sha256:<hex>``.
    """
    counts = store.counts()
    keys = data["customer"].node_key
    mask = data["customer"].y_mask
    pairs = [f"{keys[i]}\t{schema.domains[j]}" for i, j in mask.nonzero().tolist()]
    h = hashlib.sha256()
    h.update(json.dumps([counts.nodes, counts.relationships], sort_keys=True).encode())
    h.update(schema.fingerprint().encode())
    for p in sorted(pairs):
        h.update(p.encode())
        h.update(b"\n")
    return f"sha256:{h.hexdigest()}"


def build_info(
    model: SatisfactionModel, store: GraphStore | None = None, data: HeteroData | None = None
) -> ModelInfo:
    """The :class:`ModelInfo` of a freshly trained model.

    The ontology version needs ``store``; the data fingerprint needs ``store`` and ``data``.
    """
    from needgraph import __version__

    version = None
    fingerprint = None
    if store is not None:
        version = store_ontology_version(store)
        if data is not None:
            fingerprint = data_fingerprint(store, data, model.schema)
    n = int(model.label_index.numel()) if model.label_index is not None else 0
    return ModelInfo(
        model_id=new_model_id(),
        created_at=datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        needgraph_version=__version__,
        schema_fingerprint=model.schema.fingerprint(),
        domains=list(model.schema.domains),
        ontology_version=version,
        data_fingerprint=fingerprint,
        metrics={d: dict(m) for d, m in model.metrics.items()},
        model_config=model.model_config.to_dict(),
        train_config=model.train_config.to_dict(),
        customers_trained=n,
    )


def store_ontology_version(store: GraphStore) -> str | None:
    """The ontology version ``store`` holds (``None`` when none was loaded)."""
    from needgraph.ontology.versioning import current_version

    record = current_version(store)
    return record.version if record else None


def save_model(
    model: SatisfactionModel,
    path: str | Path,
    info: ModelInfo | None = None,
    *,
    store: GraphStore | None = None,
    data: HeteroData | None = None,
) -> Path:
    """Write ``model`` to ``path`` (parent folders are created) and return the path.

    Args:
        model: Trained model.
        path: Target file.
        info: Provenance (default: :func:`build_info` from ``store`` and ``data``).
        store: Training store: records its ontology version (and, with ``data``, the data
            fingerprint). Without it the artifact carries no ontology version and loads on any
            store.
        data: Training graph.
    """
    import torch

    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = info if info is not None else build_info(model, store, data)
    meta.path = str(out)
    model.info = meta
    first = model.members[0] if model.members else None
    payload: dict[str, Any] = {
        "version": ARTIFACT_VERSION,
        "schema": model.schema.to_json(),
        "fingerprint": model.schema.fingerprint(),
        "model_config": model.model_config.to_dict(),
        "train_config": model.train_config.to_dict(),
        "in_dims": _in_dims(first) if first else {},
        "members": [m.state_dict() for m in model.members],
        "epochs": list(model.epochs),
        "label_index": model.label_index,
        "info": json.dumps(meta.to_dict(), sort_keys=True),
    }
    tmp = out.with_name(out.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(out)  # readers never see a half-written artifact
    return out


def _in_dims(member: SatisfactionGNN) -> dict[str, int]:
    """Dense input width per node type of ``member``."""
    import torch

    dims: dict[str, int] = {}
    for t, lin in member.lin_in.items():
        assert isinstance(lin, torch.nn.Linear)
        dims[t] = int(lin.in_features)
    return dims


def _read_payload(path: Path) -> dict[str, Any]:
    import torch

    if not path.is_file():
        raise ModelNotFoundError(f"model artifact {str(path)!r} does not exist", path=str(path))
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling refused or not a torch file at all
        raise ModelMismatchError(
            f"{str(path)!r} is not a needgraph model artifact ({type(exc).__name__}: {exc})",
            hint="Point --model / NEEDGRAPH_MODEL at a file written by `needgraph train`.",
            path=str(path),
        ) from exc
    if not isinstance(payload, dict) or payload.get("version") != ARTIFACT_VERSION:
        found = payload.get("version") if isinstance(payload, dict) else type(payload).__name__
        raise ModelMismatchError(
            f"model artifact {str(path)!r} has format version {found!r}; this needgraph reads "
            f"version {ARTIFACT_VERSION}",
            hint="Retrain with `needgraph train` (artifacts are not converted between formats).",
            path=str(path),
        )
    return payload


def read_info(path: str | Path) -> ModelInfo:
    """The :class:`ModelInfo` of an artifact (the weights are read but not rebuilt)."""
    payload = _read_payload(Path(path))
    info = ModelInfo(**json.loads(payload["info"]))
    info.path = str(path)
    return info


def load_model(path: str | Path, store: GraphStore | None = None) -> SatisfactionModel:
    """Read a model written by :func:`save_model`.

    Args:
        path: Artifact file.
        store: When given, the model must have been trained on the ontology version the store
            holds now.

    Returns:
        The model, its provenance in ``model.info``.

    Raises:
        ModelNotFoundError: No file at ``path``.
        ModelMismatchError: Not an artifact, another format version, a schema that does not
            match its fingerprint, or another ontology version than ``store``'s.
    """
    from needgraph.reasoning.model import ModelConfig, SatisfactionGNN
    from needgraph.reasoning.train import SatisfactionModel, TrainConfig

    src = Path(path)
    payload = _read_payload(src)
    schema = FeatureSchema.from_json(payload["schema"])
    if schema.fingerprint() != payload["fingerprint"]:
        raise ModelMismatchError(
            f"model artifact {str(src)!r} is corrupt: its feature schema hashes to "
            f"{schema.fingerprint()}, the file records {payload['fingerprint']}",
            hint="Retrain with `needgraph train`.",
            path=str(src),
        )
    info = ModelInfo(**json.loads(payload["info"]))
    info.path = str(src)
    if store is not None:
        check_ontology(info, store)
    mcfg = ModelConfig(**payload["model_config"])
    tcfg_raw = dict(payload["train_config"])
    tcfg_raw["loss_weights"] = tuple(tcfg_raw["loss_weights"])
    tcfg_raw["fanout"] = tuple(tcfg_raw["fanout"])
    tcfg = TrainConfig(**tcfg_raw)
    model = SatisfactionModel(schema, mcfg, tcfg, label_index=payload["label_index"])
    for state in payload["members"]:
        member = SatisfactionGNN(schema, payload["in_dims"], mcfg)
        member.load_state_dict(state)
        member.eval()
        model.members.append(member)
    model.epochs = list(payload["epochs"])
    model.metrics = {d: dict(m) for d, m in info.metrics.items()}
    model.info = info
    return model


def check_ontology(info: ModelInfo, store: GraphStore) -> None:
    """Refuse a model trained on another ontology version than ``store`` holds.

    A model saved without a store (``info.ontology_version is None`` and no data fingerprint)
    carries no version and passes.

    Raises:
        ModelMismatchError: Naming both versions and the fix.
    """
    if info.ontology_version is None and info.data_fingerprint is None:
        return
    current = store_ontology_version(store)
    if current != info.ontology_version:
        raise ModelMismatchError(
            f"model {info.model_id} was trained on ontology version "
            f"{info.ontology_version or 'none'}, but the store holds ontology version "
            f"{current or 'none'}",
            hint=(
                "Retrain on this store with `needgraph train`, or load ontology version "
                f"{info.ontology_version or '(none)'} into the store (`needgraph ontology load`)."
            ),
            model_ontology_version=info.ontology_version,
            store_ontology_version=current,
        )


def latest_model(model_dir: str | Path) -> Path:
    """The newest artifact of ``model_dir``: the one ``latest`` names, else the newest ``*.pt``.

    Raises:
        ModelNotFoundError: The directory holds no artifact.
    """
    folder = Path(model_dir)
    pointer = folder / LATEST
    if pointer.is_file():
        target = folder / pointer.read_text(encoding="utf-8").strip()
        if target.is_file():
            return target
    found = sorted(folder.glob("model-*.pt")) if folder.is_dir() else []
    if not found:
        raise ModelNotFoundError(
            f"no trained model in {str(folder)!r}",
            model_dir=str(folder),
        )
    return found[-1]


def save_versioned(model: SatisfactionModel, model_dir: str | Path, info: ModelInfo) -> Path:
    """Save into ``model_dir`` as ``model-<model_id>.pt`` and point ``latest`` at it."""
    folder = Path(model_dir)
    path = save_model(model, folder / f"model-{info.model_id}.pt", info)
    tmp = folder / (LATEST + ".tmp")
    tmp.write_text(path.name + "\n", encoding="utf-8")
    tmp.replace(folder / LATEST)
    return path
