"""The feature schema: the recorded recipe that turns a graph store into model tensors.

A model is only valid together with the exact features it was trained on. :class:`FeatureSchema`
records everything the export derived from the training graph - node types and relations, the
id vocabularies of concept nodes, normalisation statistics and quantile knots of numeric tags, the
text-embedding width, the labelled domains - so that inference rebuilds identical features and a
mismatch is detected by :meth:`FeatureSchema.fingerprint`. Standard library only (no torch).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1

#: Graph label -> node type name in ``HeteroData``.
NODE_TYPES: dict[str, str] = {
    "Customer": "customer",
    "TagBin": "tag_bin",
    "Tag": "tag",
    "Utterance": "utterance",
    "Cause": "cause",
    "Need": "need",
    "Strategy": "strategy",
    "Domain": "domain",
}
#: Node types that get a learnable embedding per id (index 0 is the shared "unknown" row).
VOCAB_TYPES: tuple[str, ...] = ("tag_bin", "tag", "cause", "need", "strategy", "domain")
UNKNOWN_INDEX = 0

EdgeType = tuple[str, str, str]


@dataclass(frozen=True)
class NumericTag:
    """Normalisation of one numeric tag's raw values (``HAS_TAG.value``).

    Args:
        tag: Tag id.
        mean: Mean of the observed values.
        std: Standard deviation of the observed values (1.0 when degenerate).
        knots: Increasing quantile knots for the piecewise-linear encoding; ``len(knots) - 1``
            segments, each encoded as ``clamp((v - k_i) / (k_{i+1} - k_i), 0, 1)``.
    """

    tag: str
    mean: float
    std: float
    knots: tuple[float, ...]

    def feature_names(self) -> list[str]:
        """Names of the customer features this tag contributes, in order."""
        segments = [f"{self.tag}:ple{i}" for i in range(max(len(self.knots) - 1, 0))]
        return [f"{self.tag}:z", f"{self.tag}:missing", *segments]


@dataclass(frozen=True)
class FeatureSchema:
    """Everything needed to rebuild exactly the same features at inference.

    Args:
        vocab: Node type -> ordered node keys; key ``vocab[t][i]`` has embedding index ``i + 1``
            (index 0 is "unknown", used for nodes first seen after training).
        numeric: Numeric tags of the customer feature block, in order.
        degree_relations: Customer relations whose ``log1p(degree)`` is a customer feature.
        edge_types: Message-passing edge types (reverse edges included), in order.
        embedding_dim: Width of utterance embeddings (0 when the graph has no text).
        domains: Labelled domains, in the order of the label columns.
        version: Schema format version.
    """

    vocab: Mapping[str, tuple[str, ...]]
    numeric: tuple[NumericTag, ...]
    degree_relations: tuple[str, ...]
    edge_types: tuple[EdgeType, ...]
    embedding_dim: int
    domains: tuple[str, ...]
    version: int = SCHEMA_VERSION
    _index: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)

    def customer_feature_names(self) -> list[str]:
        """Ordered names of the customer input features."""
        names: list[str] = []
        for tag in self.numeric:
            names.extend(tag.feature_names())
        names.extend(f"deg:{rel}" for rel in self.degree_relations)
        return names

    def node_feature_names(self) -> dict[str, list[str]]:
        """Node type -> ordered names of its dense input features (``x``)."""
        names = {"customer": self.customer_feature_names()}
        if self.embedding_dim:
            names["utterance"] = [f"emb{i}" for i in range(self.embedding_dim)] + ["has_embedding"]
        return names

    @property
    def node_types(self) -> list[str]:
        """Node types the model sees, in a fixed order."""
        types = {src for src, _, _ in self.edge_types} | {dst for _, _, dst in self.edge_types}
        types.add("customer")
        return [t for t in NODE_TYPES.values() if t in types]

    def index_of(self, node_type: str, key: str) -> int:
        """Embedding index of ``key`` among ``node_type`` nodes (0 when unknown)."""
        table = self._index.get(node_type)
        if table is None:
            table = {k: i + 1 for i, k in enumerate(self.vocab.get(node_type, ()))}
            self._index[node_type] = table
        return table.get(key, UNKNOWN_INDEX)

    def vocab_size(self, node_type: str) -> int:
        """Rows of the embedding table of ``node_type`` (known keys + the unknown row)."""
        return len(self.vocab.get(node_type, ())) + 1

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary (the canonical form hashed by :meth:`fingerprint`)."""
        return {
            "version": self.version,
            "vocab": {t: list(keys) for t, keys in sorted(self.vocab.items())},
            "numeric": [
                {"tag": n.tag, "mean": n.mean, "std": n.std, "knots": list(n.knots)}
                for n in self.numeric
            ],
            "degree_relations": list(self.degree_relations),
            "edge_types": [list(e) for e in self.edge_types],
            "embedding_dim": self.embedding_dim,
            "domains": list(self.domains),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSchema:
        """Rebuild a schema written by :meth:`to_dict`."""
        if int(data.get("version", -1)) != SCHEMA_VERSION:
            raise ValueError(
                f"feature schema version {data.get('version')!r} is not {SCHEMA_VERSION}"
            )
        return cls(
            vocab={t: tuple(keys) for t, keys in data["vocab"].items()},
            numeric=tuple(
                NumericTag(n["tag"], float(n["mean"]), float(n["std"]), tuple(n["knots"]))
                for n in data["numeric"]
            ),
            degree_relations=tuple(data["degree_relations"]),
            edge_types=tuple((e[0], e[1], e[2]) for e in data["edge_types"]),
            embedding_dim=int(data["embedding_dim"]),
            domains=tuple(data["domains"]),
        )

    def to_json(self) -> str:
        """Canonical JSON text (sorted keys, no whitespace variation)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FeatureSchema:
        """Rebuild a schema from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))

    def fingerprint(self) -> str:
        """SHA-256 (hex, first 16 chars) of the canonical JSON: equal iff features are equal."""
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()[:16]
