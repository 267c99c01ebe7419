"""Tests of ``needgraph generate``: determinism, file schemas, binning, truth, labels, offers.

A small ontology written here (domains, group and leaf causes, every tag shape, strategies with
nested eligibility) keeps the tests independent of the curated files; one smoke test runs the
shipped ontology.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from needgraph.ingest.generator import build_world, generate_dataset, load_world
from needgraph.ingest.generator.errors import GeneratorError
from needgraph.ingest.generator.rules_np import evaluate_rule_np
from needgraph.ingest.generator.writers import FILES
from needgraph.ontology.core import Ontology
from needgraph.ontology.files import read_ontology
from needgraph.ontology.rules import evaluate_rule

MANIFEST = """\
ontology:
  name: gen-test
  version: 1.0.0
  default_language: zh
  languages: [zh, en]
"""

CONCEPTS = """\
concepts:
  - {id: domain.tariff, kind: Domain, label: {zh: 资费, en: tariff}}
  - {id: domain.home_broadband, kind: Domain, label: {zh: 家庭宽带, en: home broadband}}
  - {id: domain.wireless, kind: Domain, label: {zh: 无线网络, en: wireless}}
  - {id: domain.overall, kind: Domain, label: {zh: 整体, en: overall}}
  - {id: need.stable_evening_broadband, kind: Need, label: {zh: 晚间稳定, en: stable evenings},
     domains: [domain.home_broadband]}
  - {id: need.whole_home_wifi, kind: Need, label: {zh: 全屋WiFi, en: whole-home wifi},
     domains: [domain.home_broadband]}
  - {id: need.value_for_money, kind: Need, label: {zh: 物有所值, en: value for money},
     domains: [domain.tariff]}
  - {id: need.fast_repair, kind: Need, label: {zh: 快速修复, en: fast repair},
     domains: [domain.home_broadband, domain.wireless]}
  - id: cause.network_quality
    kind: Cause
    label: {zh: 网络质量问题, en: network quality problem}
    synonyms: {zh: [网络不好, 很卡], en: [bad network, laggy]}
    affects: [domain.home_broadband, domain.wireless, domain.overall]
  - id: cause.broadband_quality
    kind: Cause
    label: {zh: 宽带质量问题, en: broadband quality problem}
    synonyms: {zh: [宽带不好用], en: [home internet is bad]}
    broader: [cause.network_quality]
    affects: [domain.home_broadband, domain.overall]
  - id: cause.evening_congestion
    kind: Cause
    label: {zh: 晚高峰拥塞, en: evening congestion}
    synonyms: {zh: [晚上卡, 一到晚上就卡], en: [slow in the evening, lags at night]}
    broader: [cause.broadband_quality]
    affects: [domain.home_broadband, domain.overall]
    blocks: [need.stable_evening_broadband]
  - id: cause.wifi_dead_zone
    kind: Cause
    label: {zh: WiFi死角, en: Wi-Fi dead zone}
    synonyms: {zh: [卧室信号弱, WiFi覆盖不到], en: [no wifi upstairs]}
    broader: [cause.broadband_quality]
    affects: [domain.home_broadband, domain.overall]
    blocks: [need.whole_home_wifi]
  - id: cause.broadband_disconnection
    kind: Cause
    label: {zh: 宽带频繁掉线, en: frequent broadband disconnection}
    synonyms: {zh: [老是断网], en: [keeps dropping]}
    broader: [cause.broadband_quality]
  - id: cause.weak_indoor_coverage
    kind: Cause
    label: {zh: 室内弱覆盖, en: weak indoor coverage}
    synonyms: {zh: [家里信号差], en: [one bar indoors]}
    broader: [cause.network_quality]
    affects: [domain.wireless, domain.overall]
  - id: cause.bill_shock_extra_data
    kind: Cause
    label: {zh: 超套餐流量费, en: extra data charges}
    synonyms: {zh: [流量超了扣钱], en: [charged for extra data]}
    affects: [domain.tariff, domain.overall]
  - id: cause.price_too_high
    kind: Cause
    label: {zh: 价格太高, en: price too high}
    synonyms: {zh: [太贵了], en: [too expensive]}
    affects: [domain.tariff, domain.overall]
    blocks: [need.value_for_money]
  - id: cause.slow_repair_response
    kind: Cause
    label: {zh: 报障响应慢, en: slow repair response}
    synonyms: {zh: [报修没人来], en: [repair is taking forever]}
    affects: [domain.home_broadband, domain.wireless]
    blocks: [need.fast_repair]
  - {id: tag.network, kind: Tag, value_type: group, label: {zh: 网络, en: network}}
  - id: tag.network.evening_latency_ms
    kind: Tag
    value_type: numeric
    unit: ms
    parent: tag.network
    label: {zh: 晚高峰时延, en: evening latency}
    bins:
      - {id: lt_50, label: {zh: 低, en: low}, max: 50}
      - {id: ms_50_150, label: {zh: 中, en: mid}, min: 50, max: 150}
      - {id: gte_150, label: {zh: 高, en: high}, min: 150}
    indicates:
      - {cause: cause.evening_congestion, weight: 0.4, when: [ms_50_150]}
      - {cause: cause.evening_congestion, weight: 0.9, when: [gte_150]}
  - id: tag.network.evening_speed_ratio_pct
    kind: Tag
    value_type: numeric
    unit: '%'
    parent: tag.network
    derived_from: [tag.network.evening_latency_ms]
    label: {zh: 晚间速率达标率, en: evening speed ratio}
    bins:
      - {id: lt_50, label: {zh: 低, en: low}, max: 50}
      - {id: gte_50, label: {zh: 高, en: high}, min: 50}
    indicates:
      - {cause: cause.evening_congestion, weight: 0.6, when: [lt_50]}
  - id: tag.network.farthest_room_rssi_dbm
    kind: Tag
    value_type: numeric
    unit: dBm
    parent: tag.network
    label: {zh: 最远房间信号, en: farthest room RSSI}
    bins:
      - {id: lt_m75, label: {zh: 弱, en: weak}, max: -75}
      - {id: m75_m60, label: {zh: 中, en: fair}, min: -75, max: -60}
      - {id: gte_m60, label: {zh: 好, en: good}, min: -60}
    indicates:
      - {cause: cause.wifi_dead_zone, weight: 0.9, when: [lt_m75]}
  - id: tag.network.packet_loss_pct
    kind: Tag
    value_type: numeric
    unit: '%'
    parent: tag.network
    label: {zh: 丢包率, en: packet loss}
    bins:
      - {id: lt_half, label: {zh: 低, en: low}, max: 0.25}
      - {id: half_2, label: {zh: 中, en: mid}, min: 0.25, max: 2}
      - {id: gte_2, label: {zh: 高, en: high}, min: 2}
    indicates:
      - {cause: cause.broadband_disconnection, weight: 0.7, when: [gte_2]}
  - id: tag.network.indoor_rsrp_dbm
    kind: Tag
    value_type: numeric
    unit: dBm
    parent: tag.network
    label: {zh: 室内RSRP, en: indoor RSRP}
    bins:
      - {id: lt_m105, label: {zh: 弱, en: weak}, max: -105}
      - {id: gte_m105, label: {zh: 好, en: ok}, min: -105}
    indicates:
      - {cause: cause.weak_indoor_coverage, weight: 0.8, when: [lt_m105]}
  - id: tag.network.tickets_90d
    kind: Tag
    value_type: numeric
    parent: tag.network
    label: {zh: 近90天报障次数, en: fault tickets in 90 days}
    bins:
      - {id: none, label: {zh: 无, en: none}, max: 1}
      - {id: one_two, label: {zh: 1-2次, en: 1-2}, min: 1, max: 3}
      - {id: gte_3, label: {zh: 3次及以上, en: 3+}, min: 3}
    indicates:
      - {cause: cause.network_quality, weight: 0.6, when: [one_two, gte_3]}
  - id: tag.open_ticket
    kind: Tag
    value_type: boolean
    label: {zh: 有未结工单, en: open ticket}
    bins:
      - {id: "yes", label: {zh: 是, en: "yes"}, values: ["Yes", "1", "true", 是]}
      - {id: "no", label: {zh: 否, en: "no"}, values: ["No", "0", "false", 否]}
    indicates:
      - {cause: cause.slow_repair_response, weight: 0.8, when: ["yes"]}
  - id: tag.extra_data_charges
    kind: Tag
    value_type: numeric
    unit: CNY
    label: {zh: 超套流量费, en: extra data charges}
    bins:
      - {id: zero, label: {zh: 无, en: none}, max: 0.01}
      - {id: low, label: {zh: 少, en: low}, min: 0.01, max: 30}
      - {id: high, label: {zh: 多, en: high}, min: 30}
    indicates:
      - {cause: cause.bill_shock_extra_data, weight: 0.85, when: [high]}
  - id: tag.monthly_charge
    kind: Tag
    value_type: numeric
    unit: CNY
    label: {zh: 月费, en: monthly charge}
    bins:
      - {id: low, label: {zh: 低, en: low}, max: 50}
      - {id: mid, label: {zh: 中, en: mid}, min: 50, max: 150}
      - {id: high, label: {zh: 高, en: high}, min: 150}
    indicates:
      - {cause: cause.price_too_high, weight: 0.5, when: [high]}
  - id: tag.value_tier
    kind: Tag
    value_type: categorical
    label: {zh: 价值等级, en: value tier}
    bins:
      - {id: a, label: {zh: A, en: A}, values: [A1, A2, 高价值]}
      - {id: b, label: {zh: B, en: B}, values: [B1, B2]}
      - {id: c, label: {zh: C, en: C}, values: [C, 低价值]}
  - id: tag.access_type
    kind: Tag
    value_type: categorical
    label: {zh: 接入方式, en: access type}
    bins:
      - {id: fiber, label: {zh: 光纤, en: fiber}, values: [Fiber Optic, FTTH, 光纤]}
      - {id: dsl, label: {zh: DSL, en: DSL}, values: [DSL, ADSL]}
      - {id: none, label: {zh: 无, en: none}, values: [None, 无]}
  - id: tag.tenure_months
    kind: Tag
    value_type: numeric
    unit: months
    label: {zh: 在网时长, en: tenure}
    bins:
      - {id: lt_12m, label: {zh: 不足一年, en: under a year}, max: 12}
      - {id: gte_12m, label: {zh: 一年以上, en: a year or more}, min: 12}
  - id: strategy.speed_upgrade_trial
    kind: Strategy
    label: {zh: 提速体验, en: speed-upgrade trial}
    cost: 10
    channel: sms
    resolves: [cause.evening_congestion]
    addresses: [need.stable_evening_broadband]
    eligibility:
      all:
        - {tag: tag.access_type, in: [fiber]}
        - not: {tag: tag.open_ticket, in: ["yes"]}
  - id: strategy.mesh_wifi
    kind: Strategy
    label: {zh: 全屋WiFi组网, en: mesh Wi-Fi}
    cost: 120
    channel: field_engineer
    resolves: [cause.wifi_dead_zone]
    eligibility:
      any:
        - {tag: tag.value_tier, in: [a, b]}
        - {tag: tag.monthly_charge, in: [mid, high]}
  - id: strategy.small_cell
    kind: Strategy
    label: {zh: 室分优化, en: indoor small cell}
    cost: 300
    channel: field_engineer
    resolves: [cause.weak_indoor_coverage]
  - id: strategy.data_addon
    kind: Strategy
    label: {zh: 流量包优惠, en: data add-on discount}
    cost: 10
    channel: sms
    resolves: [cause.bill_shock_extra_data]
    eligibility: {tag: tag.tenure_months, in: [gte_12m]}
  - id: strategy.tariff_migration
    kind: Strategy
    label: {zh: 资费迁转, en: tariff migration}
    cost: 20
    channel: outbound_call
    resolves: [cause.price_too_high]
    addresses: [need.value_for_money]
  - id: strategy.priority_repair
    kind: Strategy
    label: {zh: 绿色通道, en: priority repair}
    cost: 50
    channel: field_engineer
    resolves: [cause.slow_repair_response]
  - id: strategy.line_check
    kind: Strategy
    label: {zh: 线路检测, en: line check}
    cost: 40
    channel: field_engineer
    resolves: [cause.broadband_quality]
  - id: strategy.loyalty_points
    kind: Strategy
    label: {zh: 积分回馈, en: loyalty points}
    cost: 5
    channel: app_push
    addresses: [need.value_for_money]
"""


def write_ontology(folder: Path) -> Path:
    """Write the test ontology into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ontology.yaml").write_text(MANIFEST, encoding="utf-8")
    (folder / "concepts.yaml").write_text(CONCEPTS, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def onto(tmp_path_factory: pytest.TempPathFactory) -> Ontology:
    ontology = read_ontology(write_ontology(tmp_path_factory.mktemp("onto")))
    assert not ontology.provenance.problems, ontology.provenance.problems
    return ontology


@pytest.fixture(scope="module")
def dataset(onto: Ontology, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("data")
    generate_dataset(out, 3000, 11, ontology=onto, chunk_size=1000, progress=False)
    return out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def customer_bins(folder: Path, onto: Ontology) -> dict[str, dict[str, str]]:
    """Bins of every customer's tags from the files: wide values, then the latest long value."""
    world = load_world(folder)
    by_column = {t.column: t.id for t in world.tags}
    result: dict[str, dict[str, str]] = defaultdict(dict)
    for row in read_csv(folder / "customers_tags.csv"):
        for column, raw in row.items():
            if column == "customer_id" or raw == "":
                continue
            bin_id = onto[by_column[column]].bin_for(raw)
            assert bin_id is not None, (column, raw)
            result[row["customer_id"]][by_column[column]] = bin_id
    latest: dict[tuple[str, str], tuple[str, str]] = {}
    for row in read_csv(folder / "tags_long.csv"):
        tag_id = by_column[row["tag"]]
        assert onto[tag_id].bin_for(row["value"]) is not None, row
        key = (row["customer_id"], tag_id)
        if key not in latest or row["time"] >= latest[key][0]:
            latest[key] = (row["time"], row["value"])
    for (cid, tag_id), (_, raw) in latest.items():
        result[cid][tag_id] = onto[tag_id].bin_for(raw)  # type: ignore[assignment]
    return result


# -- determinism ------------------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(onto: Ontology, tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate_dataset(tmp_path / name, 700, 5, ontology=onto, chunk_size=300, progress=False)
    for name in (*FILES, "truth_model.json", "mapping.yaml"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    generate_dataset(tmp_path / "c", 700, 6, ontology=onto, chunk_size=300, progress=False)
    assert (tmp_path / "a" / "truth.jsonl").read_bytes() != (
        tmp_path / "c" / "truth.jsonl"
    ).read_bytes()


@pytest.mark.slow
def test_identical_across_processes_and_hash_seeds(onto: Ontology, tmp_path: Path) -> None:
    folder = write_ontology(tmp_path / "onto")
    code = (
        "import sys; from needgraph.ingest.generator import generate_dataset; "
        "generate_dataset(sys.argv[1], 400, 8, ontology=sys.argv[2], chunk_size=150, "
        "progress=False)"
    )
    repo = Path(__file__).resolve().parents[2]
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(repo)}
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / seed), str(folder)], check=True, env=env
        )
    for name in (*FILES, "truth_model.json", "mapping.yaml"):
        assert (tmp_path / "1" / name).read_bytes() == (tmp_path / "2" / name).read_bytes(), name


# -- schemas ----------------------------------------------------------------------------------
def test_file_schemas(dataset: Path, onto: Ontology) -> None:
    world = load_world(dataset)
    with (dataset / "customers_tags.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header[0] == "customer_id"
    assert set(header[1:]) == {t.column for t in world.tags if t.layout == "wide"}
    assert list(read_csv(dataset / "tags_long.csv")[0]) == ["customer_id", "tag", "value", "time"]
    offers = read_csv(dataset / "offers.csv")
    assert offers and list(offers[0]) == [
        "customer_id",
        "strategy",
        "time",
        "outcome",
        "satisfaction_after",
    ]
    assert {o["outcome"] for o in offers} == {"accepted", "declined"}
    assert {o["satisfaction_after"] for o in offers} <= {"", "1", "2", "3", "4", "5"}
    labels = read_csv(dataset / "labels.csv")
    assert list(labels[0]) == ["customer_id", "domain", "score", "time"]
    assert {int(r["score"]) for r in labels} <= {1, 2, 3, 4, 5}
    assert {r["domain"] for r in labels} == {d.split(".")[-1] for d in world.domains}
    assert set(world.domains) == {
        "domain.tariff",
        "domain.home_broadband",
        "domain.wireless",
        "domain.overall",
    }
    texts = read_jsonl(dataset / "texts.jsonl")
    assert all(set(t) == {"customer_id", "time", "channel", "lang", "text"} for t in texts)
    assert all(t["time"].endswith("Z") and t["text"] for t in texts)
    truth = read_jsonl(dataset / "truth.jsonl")
    assert [t["customer_id"] for t in truth] == [f"C{i:08d}" for i in range(3000)]
    assert {
        "causes",
        "propensity",
        "eligible",
        "satisfaction",
        "labelled",
        "texts",
        "unexplained",
    } <= set(truth[0])


def test_every_tag_value_bins(dataset: Path, onto: Ontology) -> None:
    bins = customer_bins(dataset, onto)
    assert len(bins) == 3000
    tags = {t for b in bins.values() for t in b}
    assert tags == {c.id for c in onto.by_kind("Tag") if c.bins}


def test_world_model_comes_from_the_ontology(onto: Ontology, dataset: Path) -> None:
    world = load_world(dataset)
    assert world.to_data() == build_world(onto, 11).to_data()
    leaves = {c.id for c in world.causes}
    assert leaves == {
        "cause.evening_congestion",
        "cause.wifi_dead_zone",
        "cause.broadband_disconnection",
        "cause.weak_indoor_coverage",
        "cause.bill_shock_extra_data",
        "cause.price_too_high",
        "cause.slow_repair_response",
    }
    disconnection = world.cause("cause.broadband_disconnection")
    assert set(disconnection.effects) == {"domain.home_broadband", "domain.overall"}  # inherited
    for cause in world.causes:
        assert all(0.6 <= e <= 2.0 for e in cause.effects.values())
    # a group-cause indication reaches its leaves at half weight
    ticket = [e for e in world.evidence if e.tag == "tag.network.tickets_90d"]
    assert {e.cause for e in ticket} == leaves & {
        "cause.evening_congestion",
        "cause.wifi_dead_zone",
        "cause.broadband_disconnection",
        "cause.weak_indoor_coverage",
    }
    assert all(e.weight == pytest.approx(0.3) for e in ticket)
    # group resolves: line check fixes the broadband leaves, less surely than direct resolves
    line = world.strategy("strategy.line_check")
    assert set(line.fix) == {
        "cause.evening_congestion",
        "cause.wifi_dead_zone",
        "cause.broadband_disconnection",
    }
    assert max(line.fix.values()) < min(world.strategy("strategy.mesh_wifi").fix.values())


def test_generator_refuses_an_ontology_without_causes(tmp_path: Path) -> None:
    folder = tmp_path / "o"
    folder.mkdir()
    (folder / "ontology.yaml").write_text(MANIFEST, encoding="utf-8")
    (folder / "d.yaml").write_text(
        "concepts:\n  - {id: domain.overall, kind: Domain, label: {zh: 整体, en: overall}}\n",
        encoding="utf-8",
    )
    with pytest.raises(GeneratorError):
        generate_dataset(tmp_path / "out", 10, 1, ontology=folder, progress=False)


# -- truth ------------------------------------------------------------------------------------
def test_true_cause_raises_its_indicating_bins(dataset: Path, onto: Ontology) -> None:
    world = load_world(dataset)
    bins = customer_bins(dataset, onto)
    truth = {
        t["customer_id"]: {c["cause"] for c in t["causes"]}
        for t in read_jsonl(dataset / "truth.jsonl")
    }
    gaps = []
    for ev in world.evidence:
        has = [cid for cid, causes in truth.items() if ev.cause in causes]
        lacks = [cid for cid, causes in truth.items() if ev.cause not in causes]
        if len(has) < 40:
            continue
        p_has = np.mean([bins[c].get(ev.tag) in ev.bins for c in has])
        p_lacks = np.mean([bins[c].get(ev.tag) in ev.bins for c in lacks])
        assert p_has > p_lacks, (ev.tag, ev.cause, p_has, p_lacks)
        assert p_lacks > 0.0  # decoys: some customers without the cause land there anyway
        gaps.append(p_has - p_lacks)
    assert len(gaps) >= 6 and float(np.mean(gaps)) > 0.25


def test_dissatisfied_customers_have_causes_affecting_that_domain(dataset: Path) -> None:
    world = load_world(dataset)
    code_to_domain = {d.split(".")[-1]: d for d in world.domains}
    truth = {t["customer_id"]: t for t in read_jsonl(dataset / "truth.jsonl")}
    by_domain: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for row in read_csv(dataset / "labels.csv"):
        domain = code_to_domain[row["domain"]]
        hit = any(domain in c["effects"] for c in truth[row["customer_id"]]["causes"])
        band = "dis" if int(row["score"]) <= 2 else "sat" if int(row["score"]) >= 4 else "mid"
        by_domain[domain][band].append(hit)
    for domain, bands in by_domain.items():
        assert len(bands["dis"]) >= 20, domain
        assert np.mean(bands["dis"]) > np.mean(bands["sat"]) + 0.3, domain


def test_label_rate(onto: Ontology, dataset: Path, tmp_path: Path) -> None:
    labelled = {r["customer_id"] for r in read_csv(dataset / "labels.csv")}
    assert abs(len(labelled) / 3000 - 0.8) < 0.04
    truth = read_jsonl(dataset / "truth.jsonl")
    assert {t["customer_id"] for t in truth if t["labelled"]} == labelled
    texted = {t["customer_id"] for t in read_jsonl(dataset / "texts.jsonl")}
    assert texted - labelled, "unlabelled customers write texts too"
    generate_dataset(tmp_path, 400, 3, ontology=onto, label_rate=0.0, progress=False)
    assert read_csv(tmp_path / "labels.csv") == []
    assert len(read_csv(tmp_path / "customers_tags.csv")) == 400


def test_causes_per_customer(dataset: Path) -> None:
    counts = Counter(len(t["causes"]) for t in read_jsonl(dataset / "truth.jsonl"))
    assert set(counts) <= {0, 1, 2, 3}
    assert 0.15 < counts[0] / 3000 < 0.6 and counts[1] > counts[3]


# -- offers -----------------------------------------------------------------------------------
def test_offered_strategies_are_eligible(dataset: Path, onto: Ontology) -> None:
    world = load_world(dataset)
    code_to_id = {"S_" + s.id.split(".")[-1].upper(): s.id for s in world.strategies}
    bins = customer_bins(dataset, onto)
    offers = read_csv(dataset / "offers.csv")
    assert len(offers) > 300
    truth = {t["customer_id"]: t for t in read_jsonl(dataset / "truth.jsonl")}
    for offer in offers:
        strategy = onto[code_to_id[offer["strategy"]]]
        assert evaluate_rule(strategy.eligibility, bins[offer["customer_id"]]), offer
        assert strategy.id in truth[offer["customer_id"]]["eligible"]
    # the truth's eligibility agrees with the ontology's rules for everyone
    for cid in list(truth)[:500]:
        expected = {
            s.id for s in onto.by_kind("Strategy") if evaluate_rule(s.eligibility, bins[cid])
        }
        assert set(truth[cid]["eligible"]) == expected, cid


def test_vectorised_rules_match_the_ontology(onto: Ontology) -> None:
    world = build_world(onto, 2)
    rng = np.random.default_rng(0)
    bins = np.column_stack([rng.integers(-1, len(t.bins), 400) for t in world.tags])
    tag_index = {t.id: i for i, t in enumerate(world.tags)}
    bin_index = {t.id: {b: j for j, b in enumerate(t.bins)} for t in world.tags}
    for strategy in world.strategies:
        fast = evaluate_rule_np(strategy.eligibility, bins, tag_index, bin_index)
        for row in range(400):
            tag_bins = {
                t.id: t.bins[bins[row, j]] for j, t in enumerate(world.tags) if bins[row, j] >= 0
            }
            assert fast[row] == evaluate_rule(strategy.eligibility, tag_bins)


def test_acceptance_follows_relevance(dataset: Path) -> None:
    world = load_world(dataset)
    truth = {t["customer_id"]: t for t in read_jsonl(dataset / "truth.jsonl")}
    code_to_id = {"S_" + s.id.split(".")[-1].upper(): s.id for s in world.strategies}
    relevant, other = [], []
    for offer in read_csv(dataset / "offers.csv"):
        causes = truth[offer["customer_id"]]["causes"]
        sid = code_to_id[offer["strategy"]]
        fixes = any(sid in c["fixed_by"] for c in causes)
        (relevant if fixes else other).append(offer["outcome"] == "accepted")
    assert len(relevant) > 50 and np.mean(relevant) > np.mean(other) + 0.15


def test_expected_uplift_prefers_fixing_strategies(dataset: Path) -> None:
    world = load_world(dataset)
    truth = read_jsonl(dataset / "truth.jsonl")
    fixing, random_eligible = [], []
    for line in truth:
        if not line["causes"]:
            continue
        fixes = [s for c in line["causes"] for s in c["fixed_by"] if s in line["eligible"]]
        if fixes:
            fixing.append(world.expected_uplift(line, fixes[0]))
            random_eligible.extend(world.expected_uplift(line, s) for s in line["eligible"])
    assert np.mean(fixing) > np.mean(random_eligible) + 0.1
    assert all(-1.0 < u < 3.0 for u in fixing)
    for strategy in world.strategies:
        p = world.acceptance_probability({"causes": [], "propensity": 0.0}, strategy.id)
        assert 0.0 < p < 1.0


# -- mapping and the shipped ontology ---------------------------------------------------------
def _check_mapping(folder: Path, ontology: Ontology) -> None:
    mapping_io = pytest.importorskip("needgraph.ingest.mapping_io")
    mapping_check = pytest.importorskip("needgraph.ingest.mapping_check")
    doc = mapping_io.load_mapping(folder / "mapping.yaml")
    mapping_check.check_mapping(doc, ontology)
    names = {spec.path for spec in doc.mapping.files}
    assert names == {
        "customers_tags.csv",
        "tags_long.csv",
        "texts.jsonl",
        "offers.csv",
        "labels.csv",
    }


def test_mapping_validates_with_the_ingest_loader(dataset: Path, onto: Ontology) -> None:
    _check_mapping(dataset, onto)


def test_shipped_ontology(tmp_path: Path) -> None:
    ontology = read_ontology()
    generate_dataset(tmp_path, 300, 1, ontology=ontology, progress=False)
    _check_mapping(tmp_path, ontology)
    bins = customer_bins(tmp_path, ontology)
    assert len(bins) == 300


def test_cli_generate(tmp_path: Path, onto: Ontology) -> None:
    import typer
    from typer.testing import CliRunner

    from needgraph.cli.generate import generate

    app = typer.Typer()
    app.command()(generate)
    folder = write_ontology(tmp_path / "onto")
    result = CliRunner().invoke(
        app,
        [
            "--customers",
            "50",
            "--seed",
            "3",
            "--out",
            str(tmp_path / "out"),
            "--ontology",
            str(folder),
            "--label-rate",
            "0.5",
            "--no-progress",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["customers"] == 50
    assert len(read_csv(tmp_path / "out" / "customers_tags.csv")) == 50
