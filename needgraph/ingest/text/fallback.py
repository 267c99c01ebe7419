"""Embedding fallback: link a clause no surface form matched to the nearest concept label.

Every preferred and alternative label of the fallback kinds (causes and needs by default) is
embedded once per lexicon and model and cached. A clause embedding is compared by cosine
similarity with the labels of the clause's language; the best concept is accepted when its
similarity reaches the language's threshold and beats the next concept by a margin.

Measured with all-MiniLM-L6-v2 against the shipped ontology (``bench/text_ingest.py
--fallback`` reproduces it; 30 paraphrased complaints and 20 non-complaints per language, none
containing a surface form):

* English: the nearest concept is right for 26/30 paraphrases (mean cosine 0.73 when right,
  0.60 when wrong; non-complaints 0.41 on average, at most 0.68). At threshold 0.65 and margin
  0.02, 19 clauses are linked, 18 correctly (precision 0.95, recall 0.60).
* Chinese: right for 7/20 only, and right answers, wrong answers and non-complaints all score
  about 0.88 -- the model has no usable Chinese semantics (its vocabulary reduces most Chinese
  text to single characters); against English labels 2/20. The fallback is off for Chinese
  unless a caller sets a threshold (e.g. with a multilingual model).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from needgraph.ingest.text.embedder import Embedder
from needgraph.ingest.text.lexicon import Lexicon

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Cosine thresholds per language; ``None`` switches the fallback off for that language.
DEFAULT_THRESHOLDS: Mapping[str, float | None] = {"en": 0.65, "zh": None}
DEFAULT_MARGIN = 0.02
FALLBACK_KINDS: tuple[str, ...] = ("Cause", "Need")
MIN_ZH_CHARS = 4
MIN_EN_WORDS = 3


def worth_embedding(clause: str, lang: str) -> bool:
    """Whether a clause says enough to embed: >= 4 Han characters, or >= 3 English words."""
    if lang == "zh":
        return sum(1 for c in clause if "\u4e00" <= c <= "\u9fff") >= MIN_ZH_CHARS
    return len([w for w in clause.split() if any(ch.isalpha() for ch in w)]) >= MIN_EN_WORDS


@dataclass(frozen=True)
class NearestConcept:
    """The concept whose label lies nearest a clause.

    Attributes:
        concept_id: The concept.
        kind: Its kind.
        similarity: Cosine similarity with its nearest label, in [-1, 1].
        margin: How much it beats the next-best concept.
        label: The nearest label.
    """

    concept_id: str
    kind: str
    similarity: float
    margin: float
    label: str


class LabelEmbeddings:
    """Embeddings of a lexicon's labels, per language.

    Args:
        lexicon: Supplies the labels.
        embedder: Embeds them.
        kinds: Concept kinds whose labels are candidates.
    """

    def __init__(self, lexicon: Lexicon, embedder: Embedder, kinds: Sequence[str]) -> None:
        rows = sorted(
            {(e.lang, e.surface, e.concept_id, e.kind) for e in lexicon.entries if e.kind in kinds}
        )
        self._rows: dict[str, list[tuple[str, str, str]]] = {}
        for lang, surface, concept_id, kind in rows:
            self._rows.setdefault(lang, []).append((surface, concept_id, kind))
        self._vectors: dict[str, npt.NDArray[np.float32]] = {
            lang: embedder.encode([surface for surface, _c, _k in items])
            for lang, items in self._rows.items()
        }

    def nearest(
        self, vectors: npt.NDArray[np.float32], langs: Sequence[str]
    ) -> list[NearestConcept | None]:
        """Return, per clause vector, the nearest concept among labels of its language.

        Args:
            vectors: L2-normalised clause embeddings, shape ``[n, dim]``.
            langs: The language of each clause (``n`` items).
        """
        import numpy as np

        found: list[NearestConcept | None] = []
        for vector, lang in zip(vectors, langs, strict=True):
            labels = self._vectors.get(lang)
            if labels is None or not len(labels):
                found.append(None)
                continue
            sims = labels @ vector
            best: dict[str, tuple[float, int]] = {}
            for i in np.argsort(-sims, kind="stable")[:64]:
                concept = self._rows[lang][int(i)][1]
                best.setdefault(concept, (float(sims[i]), int(i)))
            ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))
            (concept_id, (sim, row)) = ranked[0]
            runner_up = ranked[1][1][0] if len(ranked) > 1 else -1.0
            surface, _cid, kind = self._rows[lang][row]
            found.append(NearestConcept(concept_id, kind, sim, sim - runner_up, surface))
        return found


_CACHE: dict[tuple[str, str, int, tuple[str, ...]], LabelEmbeddings] = {}
_CACHE_LOCK = threading.Lock()


def label_embeddings(lexicon: Lexicon, embedder: Embedder, kinds: Sequence[str]) -> LabelEmbeddings:
    """Return the (cached) label embeddings of ``lexicon`` under ``embedder``'s model."""
    key = (lexicon.fingerprint, embedder.model_name, embedder.dim, tuple(kinds))
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = LabelEmbeddings(lexicon, embedder, kinds)
        return _CACHE[key]


def fallback_confidence(similarity: float, threshold: float) -> float:
    """Map a similarity at or above ``threshold`` to a conservative confidence in [0.3, 0.6]."""
    return round(min(0.6, 0.3 + (similarity - threshold)), 4)
