"""What ingest needs from text semantics (``needgraph.ingest.text``), as narrow protocols.

The job hands masked texts to an analyser's ``analyse_batch(texts, langs)`` and stores what
comes back: the normalised masked text, its language, the mentions and an embedding (the
analysis's own when it has one, else the job's embedder is run on the masked text).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("needgraph.ingest")


class MentionLike(Protocol):
    """A concept mention (see ``needgraph.ingest.text.results.Mention``)."""

    @property
    def concept_id(self) -> str: ...  # noqa: D102
    @property
    def kind(self) -> str: ...  # noqa: D102
    @property
    def confidence(self) -> float: ...  # noqa: D102
    @property
    def span_start(self) -> int: ...  # noqa: D102
    @property
    def span_end(self) -> int: ...  # noqa: D102
    @property
    def evidence(self) -> str: ...  # noqa: D102
    @property
    def negated(self) -> bool: ...  # noqa: D102
    @property
    def resolved(self) -> bool: ...  # noqa: D102
    @property
    def method(self) -> str: ...  # noqa: D102


class AnalysisLike(Protocol):
    """The analysis of one text (see ``needgraph.ingest.text.results.TextAnalysis``)."""

    @property
    def text(self) -> str: ...  # noqa: D102
    @property
    def lang(self) -> str: ...  # noqa: D102
    @property
    def mentions(self) -> Sequence[MentionLike]: ...  # noqa: D102


class TextAnalyser(Protocol):
    """Links texts to concepts in batches."""

    def analyse_batch(  # noqa: D102
        self, texts: list[str], langs: list[str | None]
    ) -> Sequence[AnalysisLike]: ...


class EmbedderLike(Protocol):
    """Turns texts into vectors (``encode`` returns a ``[n, dim]`` array)."""

    def encode(self, texts: list[str]) -> Any: ...  # noqa: D102


@dataclass
class TextPipeline:
    """The analyser and (optional) embedder a job uses for customer text.

    Attributes:
        analyser: Links texts to concepts.
        embedder: Embeds the masked texts when the analysis carries no embedding.
        model_name: Recorded as ``Utterance.embedding_model``.
    """

    analyser: TextAnalyser
    embedder: EmbedderLike | None = None
    model_name: str | None = None


def default_text_pipeline(ontology: Any, with_embeddings: bool = True) -> TextPipeline:
    """Build the project's text linker for ``ontology`` (imports the NLP stack lazily).

    Args:
        ontology: The ontology the store holds.
        with_embeddings: Load the sentence-embedding model (``NEEDGRAPH_EMBEDDING_MODEL``).

    Raises:
        MissingNlpExtraError: spaCy/jieba/sentence-transformers are not installed.
    """
    from needgraph.ingest.text import Lexicon, SentenceTransformerEmbedder, TextLinker

    embedder = SentenceTransformerEmbedder() if with_embeddings else None
    linker = TextLinker(Lexicon.from_ontology(ontology), embedder)
    return TextPipeline(linker, None, embedder.model_name if embedder is not None else None)
