"""Fixtures of the ontology tests: a small valid ontology written into a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from needgraph.ontology.core import Ontology
from needgraph.ontology.io_yaml import read_yaml

MANIFEST = """\
ontology:
  name: mini
  version: 1.0.0
  default_language: zh
  languages: [zh, en]
"""

CORE = """\
concepts:
  - id: domain.home_net
    kind: Domain
    label: {zh: 家庭网络, en: home network}
    definition: {zh: 家里的网络体验, en: the network experience at home}
  - id: domain.billing
    kind: Domain
    label: {zh: 账单, en: billing}
    definition: {zh: 账单与计费, en: bills and charging}
  - id: need.stable_evening
    kind: Need
    label: {zh: 晚上网络稳定, en: stable evening connection}
    synonyms: {zh: [晚上不卡], en: [no lag at night]}
    definition: {zh: 晚高峰也能流畅上网, en: smooth use even at the evening peak}
    domains: [domain.home_net]
  - id: need.whole_home_coverage
    kind: Need
    label: {zh: 全屋WiFi覆盖, en: whole-home Wi-Fi coverage}
    definition: {zh: 每个房间都有信号, en: signal in every room}
    domains: [domain.home_net]
  - id: need.predictable_bill
    kind: Need
    label: {zh: 账单可预期, en: predictable bill}
    definition: {zh: 没有意外费用, en: no surprise charges}
    domains: [domain.billing]
  - id: cause.network_problem
    kind: Cause
    label: {zh: 网络问题, en: network problem}
    synonyms: {zh: [网不好], en: [bad network]}
    definition: {zh: 网络类问题的总称, en: umbrella for network problems}
    affects: [domain.home_net]
  - id: cause.evening_congestion
    kind: Cause
    label: {zh: 晚高峰拥塞, en: evening congestion}
    synonyms:
      zh: [晚上卡, 晚上网速慢]
      en: [slow in the evening]
    definition: {zh: 晚高峰时段网络拥塞, en: the network is congested at the evening peak}
    broader: [cause.network_problem]
    affects: [domain.home_net]
    blocks: [need.stable_evening]
  - id: cause.peak_hour_slowness
    kind: Cause
    label: {zh: 高峰时段慢, en: peak-hour slowness}
    synonyms: {zh: [高峰期卡顿], en: [slow at peak hours]}
    definition: {zh: 高峰时段速率下降, en: speed drops at peak hours}
    broader: [cause.network_problem]
    affects: [domain.home_net]
    blocks: [need.stable_evening]
  - id: cause.wifi_dead_zone
    kind: Cause
    label: {zh: WiFi死角, en: Wi-Fi dead zone}
    synonyms:
      zh: [Wi-Fi死角, 无线信号死角]
      en: [dead spot]
    definition: {zh: 家中部分房间没有信号, en: some rooms get no signal}
    broader: [cause.network_problem]
    affects: [domain.home_net]
    blocks: [need.whole_home_coverage]
  - id: cause.bill_shock
    kind: Cause
    label: {zh: 超套餐费用, en: bill shock}
    definition: {zh: 超出套餐产生额外费用, en: extra charges beyond the plan}
    affects: [domain.billing]
    blocks: [need.predictable_bill]
"""

TAGS = """\
concepts:
  - id: tag.network
    kind: Tag
    value_type: group
    label: {zh: 网络标签, en: network tags}
    definition: {zh: 网络类标签, en: network tags}
  - id: tag.evening_latency_ms
    kind: Tag
    value_type: numeric
    unit: ms
    parent: tag.network
    label: {zh: 晚间时延, en: evening latency}
    definition: {zh: 晚高峰时延p95, en: evening latency p95}
    bins:
      - {id: low, label: {zh: 低, en: low}, max: 50}
      - {id: mid, label: {zh: 中, en: medium}, min: 50, max: 150}
      - {id: high, label: {zh: 高, en: high}, min: 150}
    indicates:
      - {cause: cause.evening_congestion, weight: 0.8, when: [high]}
      - {cause: cause.peak_hour_slowness, weight: 0.4, when: [high]}
  - id: tag.latency_p95_ms
    kind: Tag
    value_type: numeric
    unit: ms
    parent: tag.network
    derived_from: [tag.evening_latency_ms]
    label: {zh: 时延p95, en: latency p95}
    definition: {zh: 全天时延p95, en: all-day latency p95}
    bins:
      - {id: low, label: {zh: 低, en: low}, max: 50}
      - {id: high, label: {zh: 高, en: high}, min: 50}
  - id: tag.access_type
    kind: Tag
    value_type: categorical
    parent: tag.network
    label: {zh: 接入方式, en: access type}
    definition: {zh: 宽带接入方式, en: how the line is connected}
    bins:
      - {id: fiber, label: {zh: 光纤, en: fiber}, values: [Fiber Optic, FTTH, 光纤]}
      - {id: dsl, label: {zh: DSL, en: DSL}, values: [DSL, ADSL]}
  - id: tag.open_complaint
    kind: Tag
    value_type: boolean
    label: {zh: 有未结投诉, en: open complaint}
    definition: {zh: 是否有未结投诉, en: whether a complaint is open}
    bins:
      - {id: yes, label: {zh: 是, en: yes}, values: [Yes, 1, true, 是]}
      - {id: no, label: {zh: 否, en: no}, values: [No, 0, false, 否]}
  - id: tag.extra_charges
    kind: Tag
    value_type: numeric
    unit: CNY
    label: {zh: 额外费用, en: extra charges}
    definition: {zh: 近三月额外费用, en: extra charges in the last three months}
    bins:
      - {id: none, label: {zh: 无, en: none}, max: 1}
      - {id: some, label: {zh: 有, en: some}, min: 1}
    indicates:
      - {cause: cause.bill_shock, weight: 0.7, when: [some]}
"""

ACTIONS = """\
concepts:
  - id: strategy.mesh_extender
    kind: Strategy
    label: {zh: 组网扩展器, en: mesh Wi-Fi extender}
    definition: {zh: 上门安装组网设备, en: install a mesh extender at home}
    cost: 199
    channel: field_engineer
    addresses: [need.whole_home_coverage]
    resolves: [cause.wifi_dead_zone]
    eligibility:
      all:
        - {tag: tag.access_type, in: [fiber]}
        - not: {tag: tag.open_complaint, in: [yes]}
  - id: strategy.speed_trial
    kind: Strategy
    label: {zh: 提速体验, en: speed-upgrade trial}
    definition: {zh: 免费提速一个月, en: one month of higher speed for free}
    cost: 20.5
    channel: app_push
    addresses: [need.stable_evening]
    resolves: [cause.evening_congestion, cause.peak_hour_slowness]
  - id: segment.slow_fiber
    kind: Segment
    label: {zh: 光纤晚间慢, en: slow fiber in the evening}
    definition: {zh: 光纤用户且晚间时延高, en: fiber customers with high evening latency}
    rule:
      all:
        - {tag: tag.access_type, in: [fiber]}
        - any:
            - {tag: tag.evening_latency_ms, in: [high]}
            - {tag: tag.latency_p95_ms, in: [high]}
"""

MINI_FILES = {
    "ontology.yaml": MANIFEST,
    "core.yaml": CORE,
    "tags/tags.yaml": TAGS,
    "actions.yaml": ACTIONS,
}


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root``; return ``root``."""
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def make_dir(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write the mini ontology plus ``extra`` files into a fresh folder."""
    counter = iter(range(1_000))

    def make(extra: dict[str, str] | None = None, base: dict[str, str] | None = None) -> Path:
        root = tmp_path / f"onto{next(counter)}"
        return write_files(root, {**(MINI_FILES if base is None else base), **(extra or {})})

    return make


@pytest.fixture
def mini_dir(make_dir: Callable[..., Path]) -> Path:
    """The mini ontology's folder."""
    return make_dir()


@pytest.fixture
def mini(mini_dir: Path) -> Ontology:
    """The mini ontology (valid)."""
    return read_yaml(mini_dir)
