"""A tiny customer dataset over the mini ontology, for training the model the API tests serve.

Satisfaction with ``domain.home_net`` follows the evening-latency bin, complaints about evening
congestion or Wi-Fi dead zones, and an accepted speed trial; ``domain.billing`` follows tenure.
Customers are ``R-0000`` ... (other API tests use ``C-...``); the last few carry no labels.
"""

from __future__ import annotations

import csv
import io
import random

PREFIX = "R-"
MAPPING = """\
dataset: api-reasoning
customer_id: customer_id
files:
  - path: "reasoning.csv"
    tags:
      columns:
        Tenure: tag.tenure_months
        Latency: tag.evening_latency_ms
    strategies:
      - strategy: Offer
        values: {none: null, speed: strategy.speed_trial, mesh: strategy.mesh_extender}
        outcome: {column: Outcome}
    labels:
      - score: HomeScore
        domain: domain.home_net
      - score: BillScore
        domain: domain.billing
    text:
      - column: Text
        channel: call
        lang: {column: Lang}
"""
COMPLAINTS = [
    ("晚上网速慢，看视频一直卡", "zh"),
    ("the internet is so slow in the evening, it keeps buffering", "en"),
    ("卧室是WiFi死角，完全没信号", "zh"),
]
PRAISE = [("网络很好，没有问题", "zh"), ("all good, the connection is fine", "en")]


def customer_key(i: int) -> str:
    """Key of the ``i``-th generated customer."""
    return f"{PREFIX}{i:04d}"


def reasoning_csv(count: int = 160, unlabelled: int = 10, seed: int = 3) -> bytes:
    """Rows of ``count`` customers: tags, one text or none, one offer or none, two scores."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["customer_id", "Tenure", "Latency", "Text", "Lang", "Offer", "Outcome", "HomeScore",
         "BillScore"]
    )
    for i in range(count):
        latency = rng.choice([40.0, 90.0, 120.0]) if i % 2 else rng.choice([180.0, 240.0, 290.0])
        tenure = rng.randint(1, 60)
        complains = rng.random() < (0.6 if latency >= 150 else 0.15)
        text, lang = rng.choice(COMPLAINTS) if complains else ("", "")
        if not complains and rng.random() < 0.3:
            text, lang = rng.choice(PRAISE)
        offer = rng.choice(["none", "none", "speed", "mesh"])
        outcome = rng.choice(["accepted", "declined"]) if offer != "none" else ""
        home = 4.5 - (1.6 if latency >= 150 else 0.0) - (1.2 if complains else 0.0)
        home += 0.6 if (offer == "speed" and outcome == "accepted") else 0.0
        home = min(5, max(1, round(home + rng.gauss(0, 0.3))))
        bill = min(5, max(1, round(2.5 + tenure / 30 + rng.gauss(0, 0.4))))
        labelled = i < count - unlabelled
        writer.writerow(
            [customer_key(i), tenure, latency, text, lang, offer, outcome,
             home if labelled else "", bill if labelled else ""]
        )
    return out.getvalue().encode("utf-8")


def quiet_customers(count: int, unlabelled: int) -> list[str]:
    """Labelled customers with low evening latency, no text and no offer (likely satisfied)."""
    rows = csv.DictReader(io.StringIO(reasoning_csv(count, unlabelled).decode("utf-8")))
    return [r["customer_id"] for r in rows
            if float(r["Latency"]) < 150 and not r["Text"] and r["Offer"] == "none"
            and r["HomeScore"]]
