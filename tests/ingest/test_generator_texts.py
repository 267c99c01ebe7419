"""Tests of the generated customer texts: diversity, languages, style, PII, decoys and noise."""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path

import pytest

from needgraph.ingest.generator import build_world, generate_dataset
from needgraph.ingest.generator.noise import phone_number
from needgraph.ingest.generator.phrasebank import family_of, load_bank
from needgraph.ingest.generator.texts import TextComposer
from needgraph.ontology.core import Ontology
from needgraph.ontology.files import read_ontology
from tests.ingest.test_generator import read_jsonl, write_ontology

PHONE = re.compile(r"(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}-\d{7,8}|[０-９]{11}")


@pytest.fixture(scope="module")
def onto(tmp_path_factory: pytest.TempPathFactory) -> Ontology:
    return read_ontology(write_ontology(tmp_path_factory.mktemp("onto")))


@pytest.fixture(scope="module")
def corpus(onto: Ontology, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("texts")
    generate_dataset(out, 2500, 21, ontology=onto, progress=False)
    return out


def _grams(text: str) -> set[str]:
    grams = {text[i : i + 3] for i in range(len(text) - 2)}
    words = text.lower().split()
    return grams | {" ".join(words[i : i + 2]) for i in range(len(words) - 1)}


def test_texts_are_diverse(corpus: Path) -> None:
    texts = [t["text"] for t in read_jsonl(corpus / "texts.jsonl")][:2000]
    assert len(texts) == 2000
    assert len(set(texts)) / len(texts) >= 0.8
    grams: Counter[str] = Counter(g for t in texts for g in _grams(t))
    assert len(grams) > 15_000
    # no single sentence dominates: the most common text is rare
    assert Counter(texts).most_common(1)[0][1] < 20


def test_language_mix_and_channels(corpus: Path) -> None:
    rows = read_jsonl(corpus / "texts.jsonl")
    zh = sum(r["lang"] == "zh" for r in rows) / len(rows)
    assert 0.62 < zh < 0.78
    assert all(re.search(r"[\u4e00-\u9fff]", r["text"]) for r in rows if r["lang"] == "zh")
    assert {r["channel"] for r in rows} >= {"social_media", "online_chat", "hotline", "survey"}
    per_customer = Counter(r["customer_id"] for r in rows)
    assert max(per_customer.values()) <= 4


def test_social_media_style(corpus: Path) -> None:
    zh = [r["text"] for r in read_jsonl(corpus / "texts.jsonl") if r["lang"] == "zh"]
    assert any("@中国移动" in t or "@10086" in t for t in zh)
    assert any(re.search(r"\[[\u4e00-\u9fff]{1,3}\]", t) for t in zh)  # [怒] [呵呵]
    assert any("！" in t for t in zh) and any("!" in t for t in zh)
    traditional = set("網話費線號說這麼沒來時間電視頻務機寬帶題")
    assert any(traditional & set(t) for t in zh)
    assert any("\n" in t for t in zh)  # multi-turn chats


def test_personal_data_present(corpus: Path) -> None:
    rows = read_jsonl(corpus / "texts.jsonl")
    truth = read_jsonl(corpus / "truth.jsonl")
    with_pii = [
        r["text"] for r in rows if PHONE.search(r["text"]) or re.search(r"\w+@\w+\.com", r["text"])
    ]
    assert len(with_pii) / len(rows) > 0.05
    by_customer: dict[str, list[str]] = {}
    for row in rows:
        by_customer.setdefault(row["customer_id"], []).append(row["text"])
    planted = 0
    for line in truth:
        texts = by_customer.get(line["customer_id"], [])
        assert len(texts) == len(line["texts"])
        for text, meta in zip(texts, line["texts"], strict=True):
            for value in meta["pii"]:
                assert value in text
                planted += 1
    assert planted > 100


def test_phone_spellings_vary() -> None:
    rnd = random.Random(3)
    numbers = {phone_number(rnd) for _ in range(300)}
    assert any(" " in n for n in numbers) and any(n.startswith("+86") for n in numbers)
    assert any("-" in n for n in numbers) and any(re.fullmatch(r"1\d{10}", n) for n in numbers)
    assert any(re.search("[０-９]", n) for n in numbers)


def test_mentions_match_the_truth(corpus: Path) -> None:
    modes: Counter[str] = Counter()
    noise = 0
    for line in read_jsonl(corpus / "truth.jsonl"):
        causes = {c["cause"] for c in line["causes"]}
        for text in line["texts"]:
            if not text["mentions"]:
                noise += 1
            for cause, mode in text["mentions"]:
                modes[mode] += 1
                if mode.startswith("asserted"):
                    assert cause in causes
                else:
                    assert cause not in causes  # decoys talk about causes the customer lacks
    assert noise > 200
    assert modes["asserted"] > modes["asserted_vague"] > 50
    assert min(modes["resolved"], modes["negated"], modes["other_person"]) > 50


def test_customers_with_causes_write_more(corpus: Path) -> None:
    truth = read_jsonl(corpus / "truth.jsonl")
    with_causes = [len(t["texts"]) for t in truth if t["causes"]]
    without = [len(t["texts"]) for t in truth if not t["causes"]]
    assert sum(with_causes) / len(with_causes) > 2 * sum(without) / len(without)


def test_every_cause_can_be_written_in_both_languages() -> None:
    ontology = read_ontology()
    world = build_world(ontology, 0)
    composer = TextComposer(world, ontology)
    rnd = random.Random(0)
    for cause in world.causes:
        for lang in ("zh", "en"):
            text = composer.compose(rnd, lang, [cause.id], [])
            assert text.text and text.mentions == [(cause.id, text.mentions[0][1])]
    families = Counter(c.family for c in world.causes)
    assert families["generic"] <= 3, families  # the bank covers nearly every shipped cause


def test_phrase_bank_is_well_formed() -> None:
    bank = load_bank()
    assert bank.families[-1].name == "generic" and not bank.families[-1].match
    for lang in ("zh", "en"):
        for role in (
            "contexts",
            "intensifiers",
            "demands",
            "signoffs",
            "emoticons",
            "noise",
            "resolved",
            "negated",
            "other_person",
            "pii",
        ):
            assert bank.common[lang][role], (lang, role)
        for frame in (*bank.common[lang]["resolved"], *bank.common[lang]["negated"]):
            assert "{m}" in frame
    slots = {s for lang in ("zh", "en") for s in bank.slots[lang]} | {"m", "phone", "email"}
    every = [
        p
        for lang in ("zh", "en")
        for role in bank.common[lang].values()
        for p in (role.values() if isinstance(role, dict) else [role])
        for p in p
    ]
    every += [p for f in bank.families for ph in f.phrases.values() for v in ph.values() for p in v]
    every += [p for _, by_lang in bank.mentions for v in by_lang.values() for p in v]
    for phrase in every:
        for slot in re.findall(r"\{(\w+)\}", phrase):
            assert slot in slots, (phrase, slot)


def test_family_matching(onto: Ontology) -> None:
    assert family_of(onto["cause.wifi_dead_zone"], ("cause.broadband_quality",)) == "home_network"
    assert family_of(onto["cause.bill_shock_extra_data"], ()) == "billing"
    assert family_of(onto["cause.slow_repair_response"], ()) == "service"
