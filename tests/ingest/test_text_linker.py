"""TextLinker on a small hand-built lexicon: mentions, spans, confidence, domains, batching."""

from __future__ import annotations

import hashlib
import math
import re

import numpy as np
import pytest

from needgraph.ingest.text.errors import UnsupportedLanguageError
from needgraph.ingest.text.lexicon import Lexicon, LexiconEntry
from needgraph.ingest.text.linker import TextLinker
from needgraph.ingest.text.results import TextAnalysis

BROADBAND, WIRELESS, TARIFF, OVERALL = (
    "domain.broadband",
    "domain.wireless",
    "domain.tariff",
    "domain.overall",
)


def _e(surface: str, concept: str, lang: str = "zh", pref: bool = False) -> LexiconEntry:
    kind = concept.split(".")[0].capitalize()
    return LexiconEntry(surface, concept, kind, lang, pref)


def build_lexicon() -> Lexicon:
    """A small zh/en lexicon shaped like the shipped ontology."""
    entries = [
        _e("家庭宽带", BROADBAND, pref=True),
        _e("宽带", BROADBAND),
        _e("家宽", BROADBAND),
        _e("home broadband", BROADBAND, "en", True),
        _e("internet", BROADBAND, "en"),
        _e("无线网络", WIRELESS, pref=True),
        _e("手机信号", WIRELESS),
        _e("mobile network", WIRELESS, "en", True),
        _e("资费", TARIFF, pref=True),
        _e("话费", TARIFF),
        _e("billing", TARIFF, "en", True),
        _e("晚高峰拥塞", "cause.evening_congestion", pref=True),
        _e("一到晚上就卡", "cause.evening_congestion"),
        _e("晚上卡", "cause.evening_congestion"),
        _e("evening congestion", "cause.evening_congestion", "en", True),
        _e("slow in the evening", "cause.evening_congestion", "en"),
        _e("宽带掉线", "cause.disconnection", pref=True),
        _e("掉线", "cause.disconnection"),
        _e("断网", "cause.disconnection"),
        _e("光猫红灯", "cause.disconnection"),
        _e("keeps dropping", "cause.disconnection", "en"),
        _e("dropping", "cause.disconnection", "en"),
        _e("卡顿", "cause.lag", pref=True),
        _e("卡", "cause.lag"),
        _e("lag", "cause.lag", "en", True),
        _e("信号弱", "cause.weak_coverage", pref=True),
        _e("信号差", "cause.weak_coverage"),
        _e("没信号", "cause.weak_coverage"),
        _e("no signal", "cause.weak_coverage", "en"),
        _e("weak signal", "cause.weak_coverage", "en", True),
        _e("乱扣费", "cause.unrequested_charges", pref=True),
        _e("扣费", "cause.unrequested_charges"),
        _e("WiFi死角", "cause.wifi_dead_zone", pref=True),
        _e("wifi doesn't reach", "cause.wifi_dead_zone", "en"),
        _e("网速慢", "cause.slow_speed"),
        _e("网速慢", "cause.slow_mobile_data"),
        _e("晚上看视频不卡", "need.stable_evening"),
        _e("stable evening broadband", "need.stable_evening", "en", True),
        _e("绿色通道", "strategy.priority_repair", pref=True),
    ]
    affects = {
        "cause.evening_congestion": [BROADBAND, OVERALL],
        "cause.disconnection": [BROADBAND, OVERALL],
        "cause.lag": [BROADBAND, WIRELESS, OVERALL],
        "cause.weak_coverage": [WIRELESS, OVERALL],
        "cause.unrequested_charges": [TARIFF, OVERALL],
        "cause.wifi_dead_zone": [BROADBAND, OVERALL],
        "cause.slow_speed": [BROADBAND, OVERALL],
        "cause.slow_mobile_data": [WIRELESS, OVERALL],
    }
    return Lexicon(tuple(entries), affects, {"need.stable_evening": [BROADBAND, OVERALL]})


class HashEmbedder:
    """Bag-of-words vectors by hashing; cosine = word overlap. Deterministic and fast."""

    model_name = "hash-bow-64"
    dim = 64

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+|[\u4e00-\u9fff]", text.lower()):
                out[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1
            norm = float(np.linalg.norm(out[row]))
            out[row] /= norm or 1.0
        return out


@pytest.fixture(scope="module")
def linker() -> TextLinker:
    return TextLinker(build_lexicon())


def _by_concept(result: TextAnalysis, concept: str) -> list:
    return [m for m in result.mentions if m.concept_id == concept]


HEADLINE = (
    "@中国移动10086 你们家宽带一到晚上就卡成PPT[怒][怒] "
    "打了10086三次都没人管！！！我电话138 1234 5678"
)


def test_headline_complaint(linker: TextLinker) -> None:
    result = linker.analyse(HEADLINE)
    assert result.lang == "zh"
    assert "<PHONE>" in result.text and "1234" not in result.text and "10086" in result.text
    assert result.masked_kinds == ("phone",)
    assert result.emoticons == ("怒", "怒") and result.handles == ("中国移动10086",)
    (mention,) = _by_concept(result, "cause.evening_congestion")
    assert mention.evidence == "一到晚上就卡" == result.text[mention.span_start : mention.span_end]
    assert mention.is_current and mention.method == "lexicon"
    assert [m.concept_id for m in result.current_causes()] == ["cause.evening_congestion"]
    # "宽带" (on token boundaries) wins over the overlapping "家宽" in "你们家宽带"
    assert [m.evidence for m in _by_concept(result, BROADBAND)] == ["宽带"]
    assert result.top_domain() == BROADBAND


def test_traditional_full_width_text_links(linker: TextLinker) -> None:
    result = linker.analyse("ＷｉＦｉ死角太多，寬帶經常斷網")
    found = {(m.concept_id, m.evidence) for m in result.mentions}
    assert ("cause.wifi_dead_zone", "WiFi死角") in found
    assert ("cause.disconnection", "断网") in found


def test_english_complaint_and_inflection(linker: TextLinker) -> None:
    result = linker.analyse("My home broadband keeps dropping every night!!!")
    assert result.lang == "en"
    assert {m.concept_id for m in result.current_causes()} == {"cause.disconnection"}
    assert _by_concept(result, "cause.disconnection")[0].evidence == "keeps dropping"
    kept = linker.analyse("the connection kept dropping all weekend")
    assert _by_concept(kept, "cause.disconnection")[0].evidence == "kept dropping"


def test_card_nouns_are_not_lag(linker: TextLinker) -> None:
    assert _by_concept(linker.analyse("办了张流量卡，信用卡也绑了"), "cause.lag") == []
    assert [m.evidence for m in _by_concept(linker.analyse("网络太卡了"), "cause.lag")] == ["卡"]
    assert _by_concept(linker.analyse("卡得不行"), "cause.lag")[0].is_current


def test_longest_match_wins_and_topics_may_overlap_problems(linker: TextLinker) -> None:
    result = linker.analyse("宽带掉线")
    assert [(m.concept_id, m.evidence) for m in result.mentions if m.kind == "Cause"] == [
        ("cause.disconnection", "宽带掉线")
    ]
    signal = linker.analyse("手机信号差到爆")
    assert {(m.concept_id, m.evidence) for m in signal.mentions} == {
        (WIRELESS, "手机信号"),
        ("cause.weak_coverage", "信号差"),
    }


def test_gapped_complaint_phrases(linker: TextLinker) -> None:
    cases = [
        ("信号很差", "cause.weak_coverage", "信号很差"),
        ("宽带老是掉线", "cause.disconnection", "宽带老是掉线"),
        ("光猫一直闪红灯", "cause.disconnection", "光猫一直闪红灯"),
        ("晚上就卡", "cause.evening_congestion", "晚上就卡"),  # not just 卡 (lag)
    ]
    for text, concept, evidence in cases:
        causes = [m for m in linker.analyse(text).mentions if m.kind == "Cause"]
        assert [(m.concept_id, m.evidence) for m in causes] == [(concept, evidence)], text
        assert causes[0].is_current
    exact = linker.analyse("信号差").mentions[0].confidence
    assert linker.analyse("信号很差").mentions[0].confidence < exact
    # a negation or a clause break inside the gap stops it
    assert linker.analyse("信号不差").mentions == ()
    assert [m.evidence for m in linker.analyse("光猫好的,红灯没亮").mentions] == []


def test_confidence_reflects_label_specificity_and_ambiguity(linker: TextLinker) -> None:
    def conf(text: str, concept: str) -> float:
        return _by_concept(linker.analyse(text), concept)[0].confidence

    assert conf("卡顿", "cause.lag") > conf("太卡", "cause.lag")  # preferred 2 chars vs alt 1
    assert conf("一到晚上就卡", "cause.evening_congestion") > conf("掉线", "cause.disconnection")
    ambiguous = linker.analyse("网速慢")
    assert {m.concept_id for m in ambiguous.mentions} == {
        "cause.slow_speed",
        "cause.slow_mobile_data",
    }
    assert all(m.confidence < conf("断网", "cause.disconnection") for m in ambiguous.mentions)
    assert all(0 < m.confidence <= 1 for m in linker.analyse(HEADLINE).mentions)


def test_domain_scores(linker: TextLinker) -> None:
    both = linker.analyse("宽带掉线，手机也没信号")
    scores = {d.domain_id: d.score for d in both.domains}
    assert math.isclose(sum(scores.values()), 1.0, abs_tol=1e-3)
    assert scores[BROADBAND] > scores[OVERALL] and scores[WIRELESS] > scores[OVERALL]
    assert linker.analyse("乱扣费").top_domain() == TARIFF
    assert linker.analyse("谢谢").domains == ()
    # a resolved complaint still says what the text is about
    assert linker.analyse("宽带掉线的问题已经修好了").top_domain() == BROADBAND


def test_mention_properties_match_graph_model(linker: TextLinker) -> None:
    mention = linker.analyse("宽带掉线").mentions[0]
    assert set(mention.properties()) == {
        "confidence",
        "span_start",
        "span_end",
        "evidence",
        "negated",
        "resolved",
        "method",
    }


def test_need_and_strategy_mentions(linker: TextLinker) -> None:
    result = linker.analyse("只想晚上看视频不卡，能不能走绿色通道")
    kinds = {m.kind for m in result.mentions}
    assert kinds == {"Need", "Strategy"}
    assert result.top_domain() == BROADBAND


def test_explicit_language(linker: TextLinker) -> None:
    assert linker.analyse("宽带掉线", lang="en").lang == "en"
    with pytest.raises(UnsupportedLanguageError):
        linker.analyse("宽带掉线", lang="ja")


MIXED = [
    HEADLINE,
    "My home broadband keeps dropping every night",
    "现在不卡了",
    "congestion every single evening here, and billing is a mess",
    "",
    "寬帶老是斷網，師傅來過了，現在修好了",
    "<PHONE>",
    "the mobile network has weak signal, no signal in the lift",
]


def test_batch_equals_single_and_is_deterministic() -> None:
    embedder = HashEmbedder()
    lexicon = build_lexicon()
    linker = TextLinker(lexicon, embedder, fallback_thresholds={"en": 0.5}, pool_size=3)
    langs = [None, "en", None, None, None, "zh", None, None]
    batch = linker.analyse_batch(MIXED, langs, batch_size=2)
    texts = {r.text for r in batch if r.text}
    pool_calls = [c for c in embedder.calls if texts & set(c)]
    assert len(pool_calls) == 3  # one encode call per pool of 3 texts
    single = [linker.analyse(t, lang) for t, lang in zip(MIXED, langs, strict=True)]
    assert batch == single
    again = TextLinker(build_lexicon(), HashEmbedder(), fallback_thresholds={"en": 0.5})
    assert again.analyse_batch(MIXED, langs) == batch
    assert batch[1].embedding is not None and len(batch[1].embedding) == 64
    assert batch[4].embedding is None  # nothing to embed
    assert [m.method for m in batch[3].mentions] == ["embedding", "lexicon"]


def test_embedding_fallback_links_unmatched_english_clause() -> None:
    linker = TextLinker(
        build_lexicon(), HashEmbedder(), fallback_thresholds={"en": 0.5, "zh": None}
    )
    result = linker.analyse("congestion every single evening here")
    (mention,) = result.mentions
    assert mention.concept_id == "cause.evening_congestion"
    assert mention.method == "embedding" and mention.confidence <= 0.6
    assert mention.evidence == "congestion every single evening here"
    negated = linker.analyse("no congestion in the evening any more")
    assert negated.mentions and all(m.resolved for m in negated.mentions)
    off = TextLinker(build_lexicon(), HashEmbedder(), fallback_thresholds={})
    assert off.analyse("congestion every single evening here").mentions == ()


def test_warm_up_leaves_the_first_text_only_its_own_encode() -> None:
    """After ``warm_up`` the fallback's label embeddings exist: the first text that needs the
    fallback encodes itself and its clauses once, never the lexicon's labels."""
    embedder = HashEmbedder()
    embedder.model_name = f"hash-bow-64-warm-{id(embedder)}"  # a label-embedding cache miss
    linker = TextLinker(build_lexicon(), embedder, fallback_thresholds={"en": 0.5, "zh": None})
    linker.warm_up()
    warmed = [text for call in embedder.calls for text in call]
    assert "warm up" in warmed and len(warmed) > 2  # the model ran, then the labels
    before = len(embedder.calls)
    result = linker.analyse("congestion every single evening here")
    assert result.mentions[0].method == "embedding"
    assert embedder.calls[before:] == [["congestion every single evening here"]]


def test_importing_the_package_loads_no_heavy_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys, needgraph.ingest.text as t; t.TextLinker; t.Lexicon; t.mask_pii; "
        "t.SentenceTransformerEmbedder; "
        "bad = [m for m in ('torch', 'spacy', 'jieba', 'sentence_transformers', 'opencc') "
        "if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
