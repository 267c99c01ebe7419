"""A small valid ontology and an ingest mapping the API tests write into temporary folders."""

from __future__ import annotations

from pathlib import Path

MANIFEST = """\
ontology:
  name: api-mini
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
  - id: cause.wifi_dead_zone
    kind: Cause
    label: {zh: WiFi死角, en: Wi-Fi dead zone}
    synonyms:
      zh: [无线信号死角]
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
  - id: tag.tenure_months
    kind: Tag
    value_type: numeric
    unit: months
    label: {zh: 在网时长, en: tenure in months}
    definition: {zh: 在网月数, en: months as a customer}
    bins:
      - {id: lt_12m, label: {zh: 不足一年, en: under a year}, max: 12}
      - {id: gte_12m, label: {zh: 一年以上, en: a year or more}, min: 12}
  - id: tag.evening_latency_ms
    kind: Tag
    value_type: numeric
    unit: ms
    label: {zh: 晚间时延, en: evening latency}
    definition: {zh: 晚高峰时延p95, en: evening latency p95}
    bins:
      - {id: low, label: {zh: 低, en: low}, max: 150}
      - {id: high, label: {zh: 高, en: high}, min: 150}
    indicates:
      - {cause: cause.evening_congestion, weight: 0.8, when: [high]}
"""

ACTIONS = """\
concepts:
  - id: strategy.speed_trial
    kind: Strategy
    label: {zh: 提速体验, en: speed-upgrade trial}
    definition: {zh: 免费提速一个月, en: one month of higher speed for free}
    cost: 20
    channel: app_push
    addresses: [need.stable_evening]
    resolves: [cause.evening_congestion]
  - id: strategy.mesh_extender
    kind: Strategy
    label: {zh: 组网扩展器, en: mesh Wi-Fi extender}
    definition: {zh: 上门安装组网设备, en: install a mesh extender at home}
    cost: 199
    channel: field_engineer
    addresses: [need.whole_home_coverage]
    resolves: [cause.wifi_dead_zone]
"""

FILES = {
    "ontology.yaml": MANIFEST,
    "core.yaml": CORE,
    "tags/tags.yaml": TAGS,
    "actions.yaml": ACTIONS,
}

MAPPING = """\
dataset: api-test
files:
  - path: "*.csv"
    tags:
      columns:
        Tenure: tag.tenure_months
        Latency: tag.evening_latency_ms
"""

CSV_HEADER = "customer_id,Tenure,Latency\n"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root``; return ``root``."""
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root


def customers_csv(count: int, start: int = 0) -> bytes:
    """A tags CSV of ``count`` customers (every tenth has a bad tenure value)."""
    rows = [CSV_HEADER]
    for i in range(start, start + count):
        tenure = "not-a-number" if i % 10 == 9 else str(i % 40)
        rows.append(f"C-{i:05d},{tenure},{(i * 37) % 300}\n")
    return "".join(rows).encode("utf-8")
