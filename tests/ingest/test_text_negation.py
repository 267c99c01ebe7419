"""Negated and resolved complaints are not current; intensified ones and 没信号 still are."""

from __future__ import annotations

import pytest

from needgraph.ingest.text.linker import TextLinker
from needgraph.ingest.text.negation import split_clauses
from tests.ingest.test_text_linker import build_lexicon


@pytest.fixture(scope="module")
def linker() -> TextLinker:
    return TextLinker(build_lexicon())


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("现在不卡了", "cause.lag"),
        ("宽带掉线的问题已经修好了", "cause.disconnection"),
        ("断网的问题解决了，谢谢", "cause.disconnection"),
        ("这两天没有再掉线", "cause.disconnection"),
        ("不再扣费了", "cause.unrequested_charges"),
        ("宽带老是掉线，师傅来过了，现在修好了[赞]", "cause.disconnection"),
        ("前几天一直断网。已经修好了", "cause.disconnection"),
        ("my wifi doesn't reach the bedroom, issue resolved", "cause.wifi_dead_zone"),
        ("the connection is no longer dropping", "cause.disconnection"),
        ("it kept dropping but works fine now", "cause.disconnection"),
        ("the lag is fixed now", "cause.lag"),
        ("not dropping anymore", "cause.disconnection"),
    ],
)
def test_resolved_complaints_are_not_current(linker: TextLinker, text: str, cause: str) -> None:
    result = linker.analyse(text)
    mentions = [m for m in result.mentions if m.concept_id == cause]
    assert mentions, f"{cause} not linked in {result.text!r}"
    assert all(m.resolved and m.negated for m in mentions)
    assert cause not in {m.concept_id for m in result.current_causes()}


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("不是一般的卡", "cause.lag"),
        ("卡得不行", "cause.lag"),
        ("家里没信号", "cause.weak_coverage"),
        ("电梯里没有信号", "cause.weak_coverage"),
        ("信号差得要死", "cause.weak_coverage"),
        ("修好了没两天又掉线", "cause.disconnection"),
        ("宽带掉线修好了吗？", "cause.disconnection"),
        ("还没修好，一直掉线", "cause.disconnection"),
        ("又掉线了，上次明明修好了", "cause.disconnection"),
        ("动不动就断网", "cause.disconnection"),
        ("无线网络不停掉线", "cause.disconnection"),
        ("不知道为什么一直断网", "cause.disconnection"),
        ("特别卡", "cause.lag"),
        ("my 5G has no signal at home", "cause.weak_coverage"),
        ("still dropping even after they fixed it", "cause.disconnection"),
        ("please get the dropping fixed", "cause.disconnection"),
        ("I can't stand the lag", "cause.lag"),
        ("not only is there lag, it keeps dropping", "cause.lag"),
    ],
)
def test_current_complaints_stay_current(linker: TextLinker, text: str, cause: str) -> None:
    result = linker.analyse(text)
    assert cause in {m.concept_id for m in result.current_causes()}, result.mentions


def test_negation_is_scoped_to_its_clause(linker: TextLinker) -> None:
    result = linker.analyse("白天不卡，晚上卡，宽带还老掉线")
    states = {(m.evidence, m.is_current) for m in result.mentions if m.kind == "Cause"}
    assert states == {("卡", False), ("晚上卡", True), ("宽带还老掉线", True)}


def test_plain_negation_is_negated_but_not_resolved(linker: TextLinker) -> None:
    result = linker.analyse("my internet is not dropping at all")
    (drop,) = [m for m in result.mentions if m.concept_id == "cause.disconnection"]
    assert drop.negated and not drop.resolved


def test_negated_mentions_lose_some_confidence(linker: TextLinker) -> None:
    plain = linker.analyse("断网").mentions[0].confidence
    negated = linker.analyse("不断网了").mentions
    assert [m.evidence for m in negated] == ["断网"]
    assert negated[0].resolved and negated[0].confidence < plain


def test_clauses_split_at_punctuation_and_contrast() -> None:
    text = "宽带卡,但是客服态度好。but the wifi, well"
    parts = [text[c.start : c.end] for c in split_clauses(text)]
    assert parts == ["宽带卡,", "但是客服态度好。", "but the wifi,", " well"]
    assert [c.sentence for c in split_clauses(text)] == [0, 0, 1, 1]
