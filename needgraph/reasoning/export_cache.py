"""On-disk cache of store -> tensor exports, so a process opening an unchanged store skips it.

An entry is keyed on the store's identity (:meth:`GraphStore.identity`), its write token
(:meth:`GraphStore.write_token`: a fresh random value before and after every write of nodes or
relationships), the feature schema's fingerprint (or "derive a new schema"), the export options
that change the result, :data:`EXPORT_FORMAT` and the needgraph version. Equal keys mean the
same nodes, relationships and recipe, hence the same tensors.

Entries are ``torch.save`` files of plain tensors, strings and numbers (loaded with
``weights_only=True``: nothing is unpickled), written to a temporary name and renamed, so a
reader never sees half a file. Reverse edge types (``rev_<rel>``) are not stored: they are the
forward edges flipped. Only the newest :attr:`ExportCache.keep` entries stay. A missing,
corrupt or mismatching entry is logged and ignored: the export then runs as if uncached.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needgraph.graph.base import GraphStore
from needgraph.reasoning.features import FeatureSchema

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.config import Settings

__all__ = ["EXPORT_FORMAT", "CacheKey", "ExportCache"]

#: Bump whenever export_graph builds different tensors from the same store and schema.
EXPORT_FORMAT = 1
_SUFFIX = ".export.pt"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CacheKey:
    """What an export depends on.

    Args:
        store: The store's identity.
        token: The store's write token when the export started.
        schema: Fingerprint of the given feature schema, or ``"derive"``.
        options: The export options that change the result, canonical JSON.
    """

    store: str
    token: str
    schema: str
    options: str
    format: int = EXPORT_FORMAT
    version: str = ""

    def digest(self) -> str:
        """SHA-256 (hex, first 32 chars) of the canonical JSON of every field: the file name."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class ExportCache:
    """A directory of export entries.

    Args:
        directory: Where entries live (created on first save).
        keep: Entries kept after a save (the newest by modification time).
    """

    def __init__(self, directory: str | Path, keep: int = 3) -> None:
        self.directory = Path(directory)
        self.keep = max(1, keep)

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ExportCache | None:
        """The cache ``NEEDGRAPH_CACHE_DIR`` names, or ``None`` when it is ``off``."""
        from needgraph.config import get_settings

        directory = (settings or get_settings()).export_cache_dir
        return None if directory is None else cls(directory)

    def key_for(
        self, store: GraphStore, schema: FeatureSchema | None, options: dict[str, Any]
    ) -> CacheKey | None:
        """The key of exporting ``store`` now, or ``None`` when the store cannot give a token.

        A store without a write token (written only by older versions) gets one first: one
        metadata write. Where that write is refused (a read-only login), nothing is cached.
        """
        import needgraph

        try:
            token = store.ensure_write_token()
        except Exception as exc:  # the cache is an optimisation, never an error
            _log.warning("export cache off for %s: no write token (%s)", store.describe(), exc)
            return None
        return CacheKey(
            store=store.identity(),
            token=token,
            schema="derive" if schema is None else schema.fingerprint(),
            options=json.dumps(options, sort_keys=True, separators=(",", ":")),
            version=needgraph.__version__,
        )

    def path_of(self, key: CacheKey) -> Path:
        """The entry file of ``key``."""
        return self.directory / f"{key.digest()}{_SUFFIX}"

    def load(self, key: CacheKey) -> tuple[HeteroData, FeatureSchema] | None:
        """The cached export of ``key``, or ``None`` (absent, unreadable or not this key)."""
        import torch

        path = self.path_of(key)
        if not path.is_file():
            return None
        try:
            entry = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(entry, dict) or entry.get("key") != asdict(key):
                raise ValueError("the entry was written for another key")
            schema = FeatureSchema.from_json(str(entry["schema"]))
            data = _unpack(entry)
        except Exception as exc:  # any bad entry is a miss, never an error
            _log.warning("ignoring export cache entry %s: %s", path, exc)
            return None
        _log.info("export served from cache %s", path)
        return data, schema

    def save(self, key: CacheKey, data: HeteroData, schema: FeatureSchema) -> Path | None:
        """Write the entry of ``key`` atomically, then prune; ``None`` when writing failed."""
        import torch

        path = self.path_of(key)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            entry = _pack(data)
            entry["key"] = asdict(key)
            entry["schema"] = schema.to_json()
            torch.save(entry, tmp)
            os.replace(tmp, path)
        except (OSError, RuntimeError) as exc:
            _log.warning("could not write export cache entry %s: %s", path, exc)
            tmp.unlink(missing_ok=True)
            return None
        self.prune()
        return path

    def entries(self) -> list[Path]:
        """Entry files, newest first."""
        found = []
        for p in self.directory.glob(f"*{_SUFFIX}"):
            try:
                found.append((p.stat().st_mtime_ns, p))
            except OSError:  # pruned by another process meanwhile
                continue
        return [p for _, p in sorted(found, reverse=True)]

    def prune(self) -> None:
        """Delete all but the newest :attr:`keep` entries."""
        for old in self.entries()[self.keep :]:
            old.unlink(missing_ok=True)


def _pack(data: HeteroData) -> dict[str, Any]:
    """Plain containers of every node and forward edge store (reverse edges are implied)."""
    nodes = {t: dict(data[t].items()) for t in data.node_types}
    edges: dict[str, dict[str, Any]] = {}
    reverse: list[str] = []
    for et in data.edge_types:
        src, rel, dst = et
        if rel.startswith("rev_") and (dst, rel[4:], src) in data.edge_types:
            reverse.append("|".join(et))
            continue
        edges["|".join(et)] = dict(data[et].items())
    order = ["|".join(et) for et in data.edge_types]
    graph = dict(data.items())  # the graph-level attributes (``schema_fingerprint``)
    return {"nodes": nodes, "edges": edges, "reverse": reverse, "order": order, "graph": graph}


def _unpack(entry: dict[str, Any]) -> HeteroData:
    from torch_geometric.data import HeteroData

    data = HeteroData()
    for k, v in entry["graph"].items():
        setattr(data, k, v)
    for t, attrs in entry["nodes"].items():
        for k, v in attrs.items():
            setattr(data[t], k, v)
    reverse = set(entry["reverse"])
    for name in entry["order"]:
        src, rel, dst = name.split("|")
        store = data[src, rel, dst]
        if name in reverse:
            fwd = entry["edges"][f"{dst}|{rel[4:]}|{src}"]
            for k, v in fwd.items():
                setattr(store, k, v.flip(0) if k == "edge_index" else v.clone())
        else:
            for k, v in entry["edges"][name].items():
                setattr(store, k, v)
    return data
