"""The linker over the shipped ontology (ontology/*.yaml) on realistic helpdesk posts."""

from __future__ import annotations

import pytest

from needgraph.ingest.text.lexicon import Lexicon
from needgraph.ingest.text.linker import TextLinker
from needgraph.ontology.files import read_ontology


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.from_ontology(read_ontology())


@pytest.fixture(scope="module")
def linker(lexicon: Lexicon) -> TextLinker:
    return TextLinker(lexicon)


def test_lexicon_from_ontology(lexicon: Lexicon) -> None:
    kinds = {e.kind for e in lexicon.entries}
    assert {"Domain", "Need", "Cause"} <= kinds and "Tag" not in kinds
    assert {e.lang for e in lexicon.entries} == {"zh", "en"}
    assert any(e.is_pref for e in lexicon.entries) and any(not e.is_pref for e in lexicon.entries)
    affects = lexicon.cause_domains["cause.evening_congestion"]
    assert "domain.home_broadband" in affects
    assert all(d.startswith("domain.") for ds in lexicon.need_domains.values() for d in ds)


@pytest.mark.parametrize(
    ("text", "cause", "domain"),
    [
        (
            "@中国移动10086 你们家宽带一到晚上就卡成PPT[怒][怒] 打了10086三次都没人管！！！",
            "cause.evening_congestion",
            "domain.home_broadband",
        ),
        (
            "家里宽带老掉线，光猫红灯一直亮[抓狂]",
            "cause.broadband_disconnection",
            "domain.home_broadband",
        ),
        ("在家打电话要去阳台，进屋就一格信号[衰]", "cause.weak_indoor_coverage", "domain.wireless"),
        ("電梯裡沒信號，地下室也沒信號", "cause.no_signal_lifts_basements", "domain.wireless"),
        ("这个月话费翻倍了？？？谁给我开的业务", "cause.bill_shock", "domain.tariff"),
        (
            "My home internet keeps cutting out every evening",
            "cause.broadband_disconnection",
            "domain.home_broadband",
        ),
        (
            "no bars in the basement and calls keep dropping",
            "cause.dropped_calls",
            "domain.wireless",
        ),
    ],
)
def test_realistic_posts_link_to_cause_and_domain(
    linker: TextLinker, text: str, cause: str, domain: str
) -> None:
    result = linker.analyse(text)
    assert cause in {m.concept_id for m in result.current_causes()}, result.mentions
    assert result.top_domain() == domain, result.domains


def test_resolved_post_over_the_shipped_ontology(linker: TextLinker) -> None:
    result = linker.analyse("之前宽带老掉线，师傅上门换了光猫，现在已经修好了，谢谢[赞]")
    linked = {m.concept_id for m in result.mentions if m.kind == "Cause"}
    assert "cause.broadband_disconnection" in linked
    assert result.current_causes() == []
    assert result.emoticon_sentiment == 1.0
