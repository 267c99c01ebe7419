"""Locust load for ``bench/api_latency.py``: one operation per run, closed loop, random customers.

Configured by environment (``api_latency.py`` sets it):

* ``BENCH_OP``: ``predict``, ``explain``, ``recommend``, ``event_tag`` (a tag change: record,
  refresh the customer's star, predict, recommend) or ``event_text`` (a complaint text: the same
  plus text linking and embedding);
* ``BENCH_KEY``: an API key (engine or admin for events);
* ``BENCH_INPUTS``: a JSON file ``{"customers": [...], "domain": "...", "tag": "...",
  "tag_values": [...], "texts": [{"text", "lang"}, ...]}``;
* ``BENCH_WAIT``: seconds each user waits between requests (0: back to back);
* ``BENCH_K``, ``BENCH_LANG``: actions / paths per answer and sentence language.

Every event carries a fresh ``event_id``, so each one is recorded (never a duplicate).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from locust import FastHttpUser, constant, task

OP = os.environ.get("BENCH_OP", "predict")
KEY = os.environ.get("BENCH_KEY", "")
INPUTS: dict[str, Any] = json.loads(Path(os.environ.get("BENCH_INPUTS", "inputs.json")).read_text(
    encoding="utf-8")) if os.environ.get("BENCH_INPUTS") else {}
K = int(os.environ.get("BENCH_K", "3"))
LANG = os.environ.get("BENCH_LANG", "en")
_COUNTER = itertools.count()


class ApiUser(FastHttpUser):
    """One concurrent client (one kept-alive connection) sending ``BENCH_OP`` requests.

    ``FastHttpUser`` (geventhttpclient) rather than ``HttpUser`` (requests): the load generator
    shares the machine's cores with the server, and it costs about a third of the CPU per
    request (measured in ``api_latency.py``'s ``locust CPU ms/answer`` column).
    """

    wait_time = constant(float(os.environ.get("BENCH_WAIT", "0")))
    default_headers = {"X-API-Key": KEY}  # noqa: RUF012 - locust reads it from the class
    concurrency = 1

    def on_start(self) -> None:
        """Seed this user's choice of customers."""
        self.rng = random.Random(next(_COUNTER))

    @task
    def send(self) -> None:
        """Send one request of the configured operation for a random customer."""
        customer = self.rng.choice(INPUTS["customers"])
        domain = INPUTS["domain"]
        if OP == "predict":
            self.client.get(f"/v1/customers/{customer}/prediction", name="predict")
        elif OP == "explain":
            query = urlencode({"domain": domain, "k": K, "lang": LANG})
            self.client.get(f"/v1/customers/{customer}/explanation?{query}", name="explain")
        elif OP == "recommend":
            query = urlencode({"domain": domain, "k": K, "lang": LANG})
            self.client.get(f"/v1/customers/{customer}/recommendations?{query}",
                            name="recommend")
        elif OP == "event_tag":
            body = {"event_id": f"bench-{uuid.uuid4().hex}", "customer": customer,
                    "kind": "tag_change", "tag": INPUTS["tag"],
                    "value": self.rng.choice(INPUTS["tag_values"])}
            self._event(body)
        elif OP == "event_text":
            text = self.rng.choice(INPUTS["texts"])
            body = {"event_id": f"bench-{uuid.uuid4().hex}", "customer": customer,
                    "kind": "complaint_text", "text": text["text"], "lang": text.get("lang")}
            self._event(body)
        else:
            raise ValueError(f"unknown BENCH_OP {OP!r}")

    def _event(self, body: dict[str, Any]) -> None:
        query = urlencode({"k": K, "lang": LANG})
        with self.client.post(f"/v1/events?{query}", json=body, name=OP,
                              catch_response=True) as answer:
            if answer.status_code != 201:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
