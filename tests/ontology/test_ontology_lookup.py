"""Label lookup: spelling variants, traditional characters, kinds, deprecated concepts."""

from __future__ import annotations

import pytest

from needgraph.ontology.core import Ontology
from needgraph.ontology.lookup import LabelIndex, SurfaceForm, normalise_label


@pytest.mark.parametrize(
    "text", ["Wi-Fi死角", "ＷＩＦＩ死角", "wifi死角", "WiFi 死角", "ＷＩ－ＦＩ死角", "無線信號死角"]
)
def test_spelling_variants_find_the_same_concept(mini: Ontology, text: str):
    assert LabelIndex(mini).lookup(text) == ["cause.wifi_dead_zone"]


def test_normalise_label_steps():
    assert normalise_label("ＷＩＦＩ死角") == normalise_label("Wi-Fi死角") == "wifi死角"
    assert normalise_label("晚高峰擁塞") == "晚高峰拥塞"  # traditional -> simplified
    assert normalise_label("  Slow   in THE evening ") == "slow in the evening"
    assert normalise_label("2.4G 信号") == "2.4g信号"  # dots stay, spaces next to CJK go


def test_lookup_by_kind_and_unknown_text(mini: Ontology):
    index = LabelIndex(mini)
    assert index.lookup("晚上卡") == ["cause.evening_congestion"]
    assert index.lookup("晚上卡", kind="Cause") == ["cause.evening_congestion"]
    assert index.lookup("晚上卡", kind="Need") == []
    assert index.lookup("slow in the evening") == ["cause.evening_congestion"]
    assert index.lookup("not a label at all") == []


def test_preferred_labels_come_first(mini: Ontology):
    need = mini["need.stable_evening"]
    synonyms = need.synonyms.model_copy(update={"zh": (*need.synonyms.zh, "晚高峰拥塞")})
    changed = need.model_copy(update={"synonyms": synonyms})
    index = LabelIndex(mini.replace(concepts=[changed if c.id == need.id else c for c in mini]))
    assert index.lookup("晚高峰拥塞") == ["cause.evening_congestion", "need.stable_evening"]


def test_surface_forms_list_every_label_with_kind_and_pref_flag(mini: Ontology):
    index = LabelIndex(mini)
    zh = list(index.surface_forms("zh"))
    assert SurfaceForm("WiFi死角", "cause.wifi_dead_zone", "Cause", True) in zh
    assert SurfaceForm("Wi-Fi死角", "cause.wifi_dead_zone", "Cause", False) in zh
    assert SurfaceForm("晚上不卡", "need.stable_evening", "Need", False) in zh
    en = list(index.surface_forms("en"))
    assert SurfaceForm("dead spot", "cause.wifi_dead_zone", "Cause", False) in en
    assert all(form.text for form in zh + en)
    for form in zh + en:  # the matcher's surface forms all resolve back through lookup
        assert form.concept_id in index.lookup(form.text)


def test_labels_of_a_deprecated_concept_lead_to_its_replacement(mini: Ontology):
    old = mini["cause.peak_hour_slowness"]
    gone = old.model_copy(update={"deprecated": True, "replaced_by": "cause.evening_congestion"})
    index = LabelIndex(mini.replace(concepts=[gone if c.id == old.id else c for c in mini]))
    assert index.lookup("高峰时段慢") == ["cause.evening_congestion"]
    assert index.lookup("高峰期卡顿") == ["cause.evening_congestion"]
    forms = [f for f in index.surface_forms("zh") if f.text == "高峰时段慢"]
    assert forms == [SurfaceForm("高峰时段慢", "cause.evening_congestion", "Cause", False)]
