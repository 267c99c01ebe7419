"""Link customer text to ontology concepts: :class:`TextLinker`.

One text goes through: normalisation and PII masking -> language detection -> spaCy
tokenization (zh: jieba; en: plus a stemmed PhraseMatcher) and a character-level scan of every
surface form, also with short gaps (``光猫一直闪红灯`` for 光猫红灯) and without degree adverbs
(``信号很差`` for 信号差) -> longest-form span selection, separately for problems (causes,
needs) and topics (domains, strategies), which may overlap -> clause-scoped negation and
resolution -> confidence -> optional embedding fallback for clauses without a cause or need
-> domain scores. ``analyse_batch`` runs the steps over pools of texts with one embedding call
per pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from needgraph.ingest.text.embedder import Embedder
from needgraph.ingest.text.fallback import (
    DEFAULT_MARGIN,
    DEFAULT_THRESHOLDS,
    FALLBACK_KINDS,
    NearestConcept,
    fallback_confidence,
    label_embeddings,
    worth_embedding,
)
from needgraph.ingest.text.language import detect_language
from needgraph.ingest.text.lexicon import LINKABLE_KINDS, Lexicon
from needgraph.ingest.text.matching import select_hits
from needgraph.ingest.text.negation import Polarity, states_negation
from needgraph.ingest.text.normalise import NormalisedText, normalise_text
from needgraph.ingest.text.pipeline import Pipelines, TokenizedText, get_pipelines
from needgraph.ingest.text.results import Mention, TextAnalysis
from needgraph.ingest.text.scoring import DomainScorer, lexicon_confidence

if TYPE_CHECKING:
    from needgraph.ontology.core import Ontology


_PROBLEMS = ("Cause", "Need")


@dataclass
class _Draft:
    norm: NormalisedText
    lang: str
    mentions: list[Mention]
    polarity: Polarity
    open_clauses: list[tuple[int, int, int]]  # (clause, start, end): no fallback-kind mention


class TextLinker:
    """Analyse customer texts: mask, normalise, and link them to concepts and domains.

    Args:
        lexicon: Surface forms and domain maps (see :meth:`Lexicon.from_ontology`).
        embedder: Embeds texts (stored on the utterance) and clauses (fallback); ``None``
            for lexicon-only linking.
        kinds: Concept kinds to link.
        embed_texts: Whether to embed each whole text (``TextAnalysis.embedding``).
        fallback_thresholds: Cosine threshold per language for the embedding fallback;
            ``None`` (or a missing language) switches it off there. ``{}`` turns it off.
        fallback_margin: Least lead of the best concept over the next one.
        fallback_kinds: Kinds the fallback may link.
        max_fallback_clauses: At most this many clauses per text are embedded.
        pool_size: Texts normalised, tokenized and embedded together in ``analyse_batch``
            (one encode call per pool, so the model can sort a large pool by length).
    """

    def __init__(
        self,
        lexicon: Lexicon,
        embedder: Embedder | None = None,
        *,
        kinds: Iterable[str] = LINKABLE_KINDS,
        embed_texts: bool = True,
        fallback_thresholds: Mapping[str, float | None] = DEFAULT_THRESHOLDS,
        fallback_margin: float = DEFAULT_MARGIN,
        fallback_kinds: Sequence[str] = FALLBACK_KINDS,
        max_fallback_clauses: int = 4,
        pool_size: int = 1024,
    ) -> None:
        wanted = set(kinds)
        self.lexicon = Lexicon(
            tuple(e for e in lexicon.entries if e.kind in wanted),
            lexicon.cause_domains,
            lexicon.need_domains,
        )
        self.embedder = embedder
        self.embed_texts = embed_texts
        self.thresholds = dict(fallback_thresholds)
        self.margin = fallback_margin
        self.fallback_kinds = tuple(k for k in fallback_kinds if k in wanted)
        self.max_fallback_clauses = max_fallback_clauses
        self.pool_size = max(1, pool_size)
        self.scorer = DomainScorer(self.lexicon)
        self._pipelines: Pipelines | None = None

    @classmethod
    def from_ontology(cls, ontology: Ontology, embedder: Embedder | None = None) -> TextLinker:
        """Return a linker over every linkable label of ``ontology`` (defaults otherwise)."""
        return cls(Lexicon.from_ontology(ontology), embedder)

    @property
    def pipelines(self) -> Pipelines:
        """The spaCy pipelines of the lexicon (built on first use, cached per lexicon)."""
        if self._pipelines is None:
            self._pipelines = get_pipelines(self.lexicon)
        return self._pipelines

    # -- lexicon ---------------------------------------------------------------------------
    def _lexicon_mentions(self, norm: NormalisedText, lang: str, tok: TokenizedText) -> _Draft:
        text = norm.text
        chars = self.pipelines.chars
        hits = chars.find(text, tok.tokens) + tok.hits
        starts = {s for s, _e in tok.tokens}
        ends = {e for _s, e in tok.tokens}
        polarity = Polarity(text, lang)
        mentions: list[Mention] = []
        boundaries = (starts, ends) if lang == "zh" else None
        # problems (causes, needs) and topics (domains, strategies) may overlap: 手机信号差
        problem = {h.form for h in hits if any(e.kind in _PROBLEMS for e in chars.forms[h.form])}
        selected = select_hits([h for h in hits if h.form in problem], chars.forms, boundaries)
        selected += select_hits([h for h in hits if h.form not in problem], chars.forms, boundaries)
        for hit in sorted(selected, key=lambda h: (h.start, h.end, h.form)):
            entries = chars.forms[hit.form]
            negated, resolved = polarity.judge(hit.start, hit.end)
            aligned = hit.source != "gapped" and (
                lang != "zh" or (hit.start in starts and hit.end in ends)
            )
            for entry in entries:
                confidence = lexicon_confidence(
                    hit.form,
                    entry.lang,
                    is_pref=entry.is_pref,
                    n_concepts=len(entries),
                    aligned=aligned,
                    negated=negated,
                )
                mentions.append(
                    Mention(
                        entry.concept_id,
                        entry.kind,
                        confidence,
                        hit.start,
                        hit.end,
                        text[hit.start : hit.end],
                        negated,
                        resolved,
                        "lexicon",
                    )
                )
        problems = [i for i, m in enumerate(mentions) if m.kind in _PROBLEMS]
        carried = polarity.carried(
            [(mentions[i].span_start, mentions[i].span_end) for i in problems]
        )
        for k in carried:
            m = mentions[problems[k]]
            if not m.resolved:
                confidence = m.confidence if m.negated else round(m.confidence * 0.85, 4)
                mentions[problems[k]] = replace(
                    m, negated=True, resolved=True, confidence=confidence
                )
        covered = {
            polarity.clause_of(m.span_start) for m in mentions if m.kind in self.fallback_kinds
        }
        return _Draft(norm, lang, mentions, polarity, polarity.open_clauses(covered))

    # -- embeddings ------------------------------------------------------------------------
    def _fallback_mention(
        self, draft: _Draft, clause: tuple[int, int, int], nearest: NearestConcept | None
    ) -> Mention | None:
        threshold = self.thresholds.get(draft.lang)
        if nearest is None or threshold is None:
            return None
        if nearest.similarity < threshold or nearest.margin < self.margin:
            return None
        index, start, end = clause
        negated, resolved = draft.polarity.judge_clause(index)
        if negated and not resolved and states_negation(nearest.label, draft.lang):
            negated = False  # the label says it with a negation too: "wifi doesn't reach"
        return Mention(
            nearest.concept_id,
            nearest.kind,
            fallback_confidence(nearest.similarity, threshold),
            start,
            end,
            draft.norm.text[start:end],
            negated,
            resolved,
            "embedding",
        )

    def _fallback_clauses(self, draft: _Draft) -> list[tuple[int, int, int]]:
        if self.embedder is None or self.thresholds.get(draft.lang) is None:
            return []
        if not self.fallback_kinds:
            return []
        text = draft.norm.text
        found = [c for c in draft.open_clauses if worth_embedding(text[c[1] : c[2]], draft.lang)]
        return found[: self.max_fallback_clauses]

    # -- public ----------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Load now what the first text would load (seconds).

        That is both languages' tokenizers (jieba's dictionary), the embedding model and the
        fallback's label embeddings. A server calls this before it says it is ready, so its
        first text event does not stall.
        """
        for lang in ("zh", "en"):
            list(self.pipelines.tokenize(["warm up"], lang))
        if self.embedder is None:
            return
        self.embedder.encode(["warm up"])
        if self.fallback_kinds and any(t is not None for t in self.thresholds.values()):
            label_embeddings(self.lexicon, self.embedder, self.fallback_kinds)

    def analyse(self, text: str, lang: str | None = None) -> TextAnalysis:
        """Analyse one text (see :meth:`analyse_batch`)."""
        return self.analyse_batch([text], [lang])[0]

    def analyse_batch(
        self,
        texts: Sequence[str],
        langs: Sequence[str | None] | None = None,
        batch_size: int = 64,
    ) -> list[TextAnalysis]:
        """Analyse many texts; results equal those of :meth:`analyse` one by one.

        Args:
            texts: Raw customer texts.
            langs: Per text a known language (``zh``/``en``) or ``None`` to detect it.
            batch_size: Texts per embedding forward pass.

        Returns:
            One :class:`TextAnalysis` per text, in order.
        """
        if langs is not None and len(langs) != len(texts):
            raise ValueError(f"{len(langs)} languages for {len(texts)} texts")
        results: list[TextAnalysis] = []
        step = self.pool_size
        for lo in range(0, len(texts), step):
            chunk = texts[lo : lo + step]
            chunk_langs = langs[lo : lo + step] if langs is not None else [None] * len(chunk)
            results.extend(self._analyse_chunk(chunk, chunk_langs, batch_size))
        return results

    def _analyse_chunk(
        self, texts: Sequence[str], langs: Sequence[str | None], batch_size: int
    ) -> list[TextAnalysis]:
        norms = [normalise_text(t) for t in texts]
        detected = [detect_language(n.text, lang) for n, lang in zip(norms, langs, strict=True)]
        tokenized: list[TokenizedText | None] = [None] * len(norms)
        for lang in ("zh", "en"):
            positions = [
                i
                for i, d in enumerate(detected)
                if (d == lang) or (lang == "en" and d == "unknown")
            ]
            batch = self.pipelines.tokenize([norms[i].text for i in positions], lang)
            for i, tok in zip(positions, batch, strict=True):
                tokenized[i] = tok
        drafts = []
        for norm, lang, tokens in zip(norms, detected, tokenized, strict=True):
            assert tokens is not None  # every text went through one of the two pipelines
            drafts.append(self._lexicon_mentions(norm, lang, tokens))
        clauses = [self._fallback_clauses(d) for d in drafts]
        embed_whole = self.embedder is not None and self.embed_texts
        unique: dict[str, int] = {}  # one encode per distinct string (a clause may be the text)
        text_rows = [
            unique.setdefault(d.norm.text, len(unique)) if embed_whole and d.norm.text else None
            for d in drafts
        ]
        clause_rows = [
            [unique.setdefault(d.norm.text[s:e], len(unique)) for _i, s, e in cs]
            for d, cs in zip(drafts, clauses, strict=True)
        ]
        nearest: list[NearestConcept | None] = []
        vectors = None
        if self.embedder is not None and unique:
            vectors = self.embedder.encode(list(unique), batch_size=batch_size)
            rows = [r for rs in clause_rows for r in rs]
            if rows:
                index = label_embeddings(self.lexicon, self.embedder, self.fallback_kinds)
                langs_flat = [d.lang for d, cs in zip(drafts, clauses, strict=True) for _c in cs]
                nearest = index.nearest(vectors[rows], langs_flat)
        results = []
        near = iter(nearest)
        for draft, found, row in zip(drafts, clauses, text_rows, strict=True):
            embedding = None
            if row is not None and vectors is not None:
                embedding = tuple(float(x) for x in vectors[row])
            mentions = list(draft.mentions)
            for clause in found:
                extra = self._fallback_mention(draft, clause, next(near))
                if extra is not None:
                    mentions.append(extra)
            mentions.sort(key=lambda m: (m.span_start, m.span_end, m.concept_id))
            results.append(self._result(draft, mentions, embedding))
        return results

    def _result(
        self, draft: _Draft, mentions: list[Mention], embedding: tuple[float, ...] | None
    ) -> TextAnalysis:
        norm = draft.norm
        return TextAnalysis(
            text=norm.text,
            lang=draft.lang,
            masked_kinds=norm.masked_kinds,
            emoticons=norm.emoticons,
            emoticon_sentiment=norm.emoticon_sentiment,
            mentions=tuple(mentions),
            domains=self.scorer.score(mentions),
            embedding=embedding,
            embedding_model=self.embedder.model_name
            if embedding is not None and self.embedder
            else None,
            handles=norm.mentions,
        )
