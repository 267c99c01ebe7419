"""Normalisation of social-media text, and language detection."""

from __future__ import annotations

import pytest

from needgraph.ingest.text.errors import UnsupportedLanguageError
from needgraph.ingest.text.language import detect_language
from needgraph.ingest.text.normalise import normalise_text


def test_weibo_post_is_cleaned_and_its_parts_kept() -> None:
    raw = (
        "@中国移动10086 你们家宽带一到晚上就卡成PPT[怒][怒] "
        "打了10086三次都没人管！！！我电话138 1234 5678"
    )
    result = normalise_text(raw)
    assert result.text == "你们家宽带一到晚上就卡成PPT 打了10086三次都没人管!我电话<PHONE>"
    assert result.mentions == ("中国移动10086",)
    assert result.emoticons == ("怒", "怒")
    assert result.emoticon_sentiment == -1.0
    assert result.masked_kinds == ("phone",)


def test_full_width_and_traditional_become_half_width_simplified() -> None:
    result = normalise_text("ＷｉＦｉ死角太多，寬帶經常斷網？？？")
    assert result.text == "WiFi死角太多,宽带经常断网?"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("网速太慢了。。。。", "网速太慢了。"),
        ("what....", "what."),
        ("为什么？！？！", "为什么?"),
        ("真的服了~~~", "真的服了~"),
        ("宽 带  很 卡", "宽带很卡"),
        ("my   wifi \n\t is  dead", "my wifi is dead"),
    ],
)
def test_punctuation_and_whitespace_collapse(raw: str, expected: str) -> None:
    assert normalise_text(raw).text == expected


def test_urls_removed_hashtags_unwrapped_handles_split_from_text() -> None:
    result = normalise_text(
        "#宽带投诉# 又断网了 https://t.cn/A6xYz9 详见 www.example.com/a?b=1 @China_Mobile #fail"
    )
    assert result.text == "宽带投诉又断网了详见 fail"
    assert result.hashtags == ("宽带投诉", "fail")
    assert result.mentions == ("China_Mobile",)


def test_weibo_reply_prefix_goes_with_the_handle() -> None:
    result = normalise_text("回复@中国电信:谢谢，师傅下午来修好了[赞]")
    assert result.text == "谢谢,师傅下午来修好了"
    assert result.mentions == ("中国电信",)


def test_operator_handle_without_space_keeps_the_complaint() -> None:
    result = normalise_text("@中国移动10086宽带又断了")
    assert result.mentions == ("中国移动10086",)
    assert result.text == "宽带又断了"


def test_emoji_and_sarcastic_codes_carry_sentiment() -> None:
    assert normalise_text("好评[赞][good]👍").emoticon_sentiment == 1.0
    assert normalise_text("服务真好[微笑][呵呵]").emoticon_sentiment == -1.0
    assert normalise_text("看[doge]").emoticon_sentiment is None
    assert normalise_text("[憤怒]").emoticons == ("愤怒",)


def test_brackets_that_are_not_emoticons_stay() -> None:
    assert normalise_text("套餐[2]说明").text == "套餐[2]说明"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("WiFi信号差", "zh"),
        ("my 5G keeps dropping", "en"),
        ("宽带又断了", "zh"),
        ("5G网络覆盖差", "zh"),
        ("The WiFi is bad 信号", "en"),
        ("我的iPhone在家没信号", "zh"),
        ("<PHONE> 10086", "unknown"),
        ("", "unknown"),
        ("!!!", "unknown"),
    ],
)
def test_language_detection_by_script(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_explicit_language_wins_and_is_validated() -> None:
    assert detect_language("宽带又断了", "en") == "en"
    assert detect_language("my wifi", "zh-CN") == "zh"
    assert detect_language("my wifi", "auto") == "en"
    with pytest.raises(UnsupportedLanguageError) as info:
        detect_language("bonjour", "fr")
    assert "zh" in info.value.hint
