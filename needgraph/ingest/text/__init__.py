"""Customer text in Chinese and English: normalise, mask personal data, link to concepts.

Typical use::

    from needgraph.ingest.text import Lexicon, SentenceTransformerEmbedder, TextLinker
    from needgraph.ontology.files import read_ontology

    linker = TextLinker(Lexicon.from_ontology(read_ontology()), SentenceTransformerEmbedder())
    result = linker.analyse("@中国移动10086 宽带一到晚上就卡[怒] 电话138 1234 5678")
    result.text            # '宽带一到晚上就卡 电话<PHONE>'
    result.current_causes()  # [Mention(concept_id='cause.evening_congestion', ...)]

Importing this package loads no heavy dependency: spaCy and jieba load when a linker first
tokenizes, sentence-transformers and torch when an embedder first encodes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from needgraph.ingest.text.embedder import Embedder, SentenceTransformerEmbedder
    from needgraph.ingest.text.language import detect_language
    from needgraph.ingest.text.lexicon import Lexicon, LexiconEntry
    from needgraph.ingest.text.linker import TextLinker
    from needgraph.ingest.text.normalise import NormalisedText, normalise_text
    from needgraph.ingest.text.pii import MaskResult, mask_pii
    from needgraph.ingest.text.results import DomainScore, Mention, TextAnalysis

_EXPORTS = {
    "Embedder": "embedder",
    "SentenceTransformerEmbedder": "embedder",
    "detect_language": "language",
    "Lexicon": "lexicon",
    "LexiconEntry": "lexicon",
    "TextLinker": "linker",
    "NormalisedText": "normalise",
    "normalise_text": "normalise",
    "MaskResult": "pii",
    "mask_pii": "pii",
    "DomainScore": "results",
    "Mention": "results",
    "TextAnalysis": "results",
}

__all__ = [
    "DomainScore",
    "Embedder",
    "Lexicon",
    "LexiconEntry",
    "MaskResult",
    "Mention",
    "NormalisedText",
    "SentenceTransformerEmbedder",
    "TextAnalysis",
    "TextLinker",
    "detect_language",
    "mask_pii",
    "normalise_text",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
