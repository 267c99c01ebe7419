"""Save and load a trained :class:`~needgraph.reasoning.train.SatisfactionModel`.

An artifact is one ``torch.save`` file holding the feature schema (canonical JSON and its
fingerprint), both configurations, the input widths and every member's ``state_dict``. Loading
rebuilds the networks and refuses a file whose schema does not match its recorded fingerprint;
:meth:`SatisfactionModel.predict` refuses a graph exported with another schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from needgraph.reasoning.features import FeatureSchema
from needgraph.reasoning.model import ModelConfig, SatisfactionGNN
from needgraph.reasoning.train import SatisfactionModel, TrainConfig

ARTIFACT_VERSION = 1


def save_model(model: SatisfactionModel, path: str | Path) -> Path:
    """Write ``model`` to ``path`` (parent folders are created) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
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
    }
    torch.save(payload, out)
    return out


def _in_dims(member: SatisfactionGNN) -> dict[str, int]:
    """Dense input width per node type of ``member``."""
    dims: dict[str, int] = {}
    for t, lin in member.lin_in.items():
        assert isinstance(lin, torch.nn.Linear)
        dims[t] = int(lin.in_features)
    return dims


def load_model(path: str | Path) -> SatisfactionModel:
    """Read a model written by :func:`save_model`.

    Raises:
        ValueError: Unknown artifact version, or a schema that does not match its fingerprint.
    """
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    if payload.get("version") != ARTIFACT_VERSION:
        raise ValueError(f"model artifact version {payload.get('version')!r} is not supported")
    schema = FeatureSchema.from_json(payload["schema"])
    if schema.fingerprint() != payload["fingerprint"]:
        raise ValueError("model artifact is corrupt: its schema does not match its fingerprint")
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
    return model
