"""Historical offers and their outcomes, drawn from the world's outcome model.

Some customers were offered one to three eligible strategies after their survey. The operator's
targeting was imperfect: a share of offers picks a strategy that fixes one of the customer's
true causes, the rest are random eligible ones. Acceptance follows
:meth:`~.world.WorldModel.acceptance_probability`; an accepted strategy removes each true cause it
fixes with its fix probability, and the follow-up score (``satisfaction_after``, recorded for a
share of offers) is the latent score on the strategy's domains plus the gains and noise.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from needgraph.ingest.generator.customers import Chunk
from needgraph.ingest.generator.world import WorldModel

DAY = 86_400


@dataclass(frozen=True)
class Offer:
    """One historical offer (``row`` indexes the customer inside its chunk)."""

    row: int
    strategy: str
    offset_s: int
    outcome: str
    satisfaction_after: int | None


class OfferModel:
    """Precomputed matrices of the outcome model for fast per-customer draws."""

    def __init__(self, world: WorldModel) -> None:
        self.world = world
        causes = {c.id: i for i, c in enumerate(world.causes)}
        domains = {d: i for i, d in enumerate(world.domains)}
        n_s, n_c = len(world.strategies), len(world.causes)
        self.fix = np.zeros((n_s, n_c))
        self.gain = np.zeros((n_s, n_c))
        self.domain_mask = np.zeros((n_s, len(world.domains)), dtype=bool)
        for s, strat in enumerate(world.strategies):
            for cid, p in strat.fix.items():
                if cid in causes:
                    self.fix[s, causes[cid]] = p
                    self.gain[s, causes[cid]] = world.fix_gain(strat.id, cid)
            for d in strat.domains:
                self.domain_mask[s, domains[d]] = True
        self.base_logit = [s.base_logit for s in world.strategies]
        self.goodwill = [s.goodwill for s in world.strategies]

    def draw(self, chunk: Chunk, rnd: random.Random) -> list[Offer]:
        """Return the offers of every customer of ``chunk``, customer by customer."""
        params = self.world.params
        ids = [s.id for s in self.world.strategies]
        offers: list[Offer] = []
        if not ids:
            return offers
        for row in range(chunk.size):
            if rnd.random() >= params.offer_rate:
                continue
            eligible = np.flatnonzero(chunk.eligible[row]).tolist()
            if not eligible:
                continue
            true_causes = np.flatnonzero(chunk.causes[row])
            r = rnd.random()
            count = min(len(eligible), 1 + (r > 0.6) + (r > 0.9))
            relevant = [s for s in eligible if self.fix[s, true_causes].max(initial=0.0) >= 0.3]
            chosen: list[int] = []
            for _ in range(count):
                pool = [s for s in relevant if s not in chosen]
                if not pool or rnd.random() >= params.targeted_share:
                    pool = [s for s in eligible if s not in chosen]
                chosen.append(pool[int(rnd.random() * len(pool))])
            for s in chosen:
                offers.append(self._outcome(chunk, row, s, true_causes, ids[s], rnd))
        return offers

    def _outcome(
        self,
        chunk: Chunk,
        row: int,
        s: int,
        true_causes: np.ndarray,
        sid: str,
        rnd: random.Random,
    ) -> Offer:
        params = self.world.params
        relevance = float(self.fix[s, true_causes].max(initial=0.0))
        logit = (
            self.base_logit[s] + float(chunk.propensity[row]) + params.relevance_weight * relevance
        )
        accepted = rnd.random() < 1.0 / (1.0 + math.exp(-logit))
        before = float(chunk.latent[row, self.domain_mask[s]].mean())
        if accepted:
            change = self.goodwill[s] + sum(
                float(self.gain[s, c]) for c in true_causes if rnd.random() < self.fix[s, c]
            )
        else:
            change = params.decline_effect
        after = before + change + rnd.gauss(0.0, 0.3)
        score = min(5, max(1, round(after))) if rnd.random() < params.follow_up_rate else None
        offset = int((10 + rnd.random() * 50) * DAY)
        return Offer(row, sid, offset, "accepted" if accepted else "declined", score)
