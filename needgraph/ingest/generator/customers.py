"""Simulate one chunk of customers, vectorised with numpy: tags, causes, scores, eligibility.

Order of draws: latent factors -> base tag bins -> true causes (prevalence, segment, latent) ->
evidence pushes of each true cause into its indicating bins -> raw values -> satisfaction per
domain -> labels -> eligibility -> propensity, language and number of texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from needgraph.ingest.generator.rules_np import evaluate_rule_np
from needgraph.ingest.generator.tags import numeric_values, sample_bins, spell_values
from needgraph.ingest.generator.world import WorldModel

MAX_TEXTS = 4


@dataclass
class Chunk:
    """Everything drawn for one chunk of customers (row ``i`` is customer ``start + i``).

    Attributes:
        start: Global index of the first customer.
        bins: ``(n, tags)`` bin index per tag (``-1`` = no value).
        values: Raw value per tag (float array with NaN, or object array with ``None``).
        history: Per long-layout tag index: earlier months' raw values (``None``/NaN = absent).
        causes: ``(n, causes)`` true causes.
        latent: ``(n, domains)`` latent satisfaction (before rounding).
        scores: ``(n, domains)`` integer scores 1-5.
        labelled: ``(n, domains)`` which scores are published in ``labels.csv``.
        eligible: ``(n, strategies)`` eligibility.
        propensity: ``(n,)`` acceptance propensity (log-odds offset).
        zh: ``(n,)`` whether the customer writes Chinese.
        n_texts: ``(n,)`` number of texts.
        label_offset: ``(n,)`` seconds after the snapshot the survey was answered.
        shock: ``(n,)`` domain index of an unexplained drop (no planted cause), ``-1`` when none.
        shock_size: ``(n,)`` size of that drop.
    """

    start: int
    bins: np.ndarray
    values: list[np.ndarray]
    history: dict[int, list[np.ndarray]]
    causes: np.ndarray
    latent: np.ndarray
    scores: np.ndarray
    labelled: np.ndarray
    eligible: np.ndarray
    propensity: np.ndarray
    zh: np.ndarray
    n_texts: np.ndarray
    label_offset: np.ndarray
    shock: np.ndarray
    shock_size: np.ndarray

    @property
    def size(self) -> int:
        """Number of customers in the chunk."""
        return int(self.bins.shape[0])


class ChunkSimulator:
    """Draws chunks of customers from a world model.

    Args:
        world: The world model.
        label_rate: Share of customers whose survey scores are published.
    """

    def __init__(self, world: WorldModel, label_rate: float) -> None:
        self.world = world
        self.label_rate = label_rate
        self.tag_index = {t.id: i for i, t in enumerate(world.tags)}
        self.bin_index = {t.id: {b: j for j, b in enumerate(t.bins)} for t in world.tags}
        self.cause_index = {c.id: i for i, c in enumerate(world.causes)}
        self.domain_index = {d: i for i, d in enumerate(world.domains)}
        self.effects = np.zeros((len(world.causes), len(world.domains)))
        for i, cause in enumerate(world.causes):
            for d, e in cause.effects.items():
                self.effects[i, self.domain_index[d]] = e
        prev = np.clip([c.prevalence for c in world.causes], 1e-6, 1 - 1e-6)
        self.base_logit = np.log(prev / (1 - prev))
        self.beta = np.array([c.latent_beta for c in world.causes])

    def simulate(self, start: int, n: int, seq: np.random.SeedSequence) -> Chunk:
        """Draw customers ``start .. start + n - 1`` from their own random stream ``seq``."""
        rng_tags, rng_causes, rng_sat, rng_misc = (np.random.default_rng(s) for s in seq.spawn(4))
        world, params = self.world, self.world.params
        latent = rng_tags.standard_normal((n, 2))
        n_tags = len(world.tags)
        bins = np.empty((n, n_tags), dtype=np.int16, order="F")  # columns are tags
        pos = np.empty((n, n_tags), order="F")
        missing = np.zeros((n, n_tags), dtype=bool, order="F")
        for j, tag in enumerate(world.tags):
            bins[:, j], pos[:, j] = sample_bins(tag, latent, rng_tags)
            if tag.missing:
                missing[:, j] = rng_tags.random(n) < tag.missing

        causes = self._draw_causes(bins, latent, rng_causes)
        self._push_evidence(causes, bins, pos, missing, rng_causes)
        values = [
            self._raw(j, bins[:, j], pos[:, j], missing[:, j], rng_tags) for j in range(n_tags)
        ]
        history = {
            j: self._history(j, bins[:, j], latent, rng_tags)
            for j, t in enumerate(world.tags)
            if t.layout == "long"
        }
        bins = np.where(missing, np.int16(-1), bins)

        sat = (
            params.base_score
            + params.customer_sd * rng_sat.standard_normal((n, 1))
            + params.domain_sd * rng_sat.standard_normal((n, len(world.domains)))
            - causes.astype(float) @ self.effects
        )
        shock = np.where(
            rng_sat.random(n) < params.unexplained_rate,
            rng_sat.integers(0, max(1, len(world.domains)), n),
            -1,
        )
        shock_size = np.round(rng_sat.uniform(1.0, 2.0, n), 3) * (shock >= 0)
        if len(world.domains):
            rows = np.flatnonzero(shock >= 0)
            sat[rows, shock[rows]] -= shock_size[rows]
        scores = np.clip(np.rint(sat), 1, 5).astype(np.int8)
        labelled = self._labels(n, rng_sat)
        label_offset = rng_sat.integers(3_600, 10 * 86_400, n)
        eligible = (
            np.column_stack(
                [
                    evaluate_rule_np(s.eligibility, bins, self.tag_index, self.bin_index)
                    for s in world.strategies
                ]
            )
            if world.strategies
            else np.zeros((n, 0), dtype=bool)
        )
        propensity = params.propensity_sd * rng_misc.standard_normal(n)
        zh = rng_misc.random(n) < params.zh_share
        mean = np.where(causes.any(axis=1), params.texts_with_causes, params.texts_without_causes)
        n_texts = np.minimum(rng_misc.poisson(mean), MAX_TEXTS)
        return Chunk(
            start,
            bins,
            values,
            history,
            causes,
            sat,
            scores,
            labelled,
            eligible,
            propensity,
            zh,
            n_texts,
            label_offset,
            shock,
            shock_size,
        )

    def _draw_causes(
        self, bins: np.ndarray, latent: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        logit = self.base_logit[None, :] + latent[:, :1] * self.beta[None, :]
        for i, cause in enumerate(self.world.causes):
            if cause.segment is not None:
                tag, bin_id, mult = cause.segment
                col = self.tag_index[tag]
                logit[:, i] += np.log(mult) * (bins[:, col] == self.bin_index[tag][bin_id])
        has: np.ndarray = rng.random(logit.shape) < 1.0 / (1.0 + np.exp(-logit))
        cap = self.world.params.max_causes
        over = np.flatnonzero(has.sum(axis=1) > cap)
        if len(over):  # keep ``cap`` of them, at random
            keys = np.where(has[over], rng.random((len(over), has.shape[1])), np.inf)
            rank = keys.argsort(axis=1).argsort(axis=1)
            has[over] &= rank < cap
        return has

    def _push_evidence(
        self,
        causes: np.ndarray,
        bins: np.ndarray,
        pos: np.ndarray,
        missing: np.ndarray,
        rng: np.random.Generator,
    ) -> None:
        """Move customers with a cause into its indicating bins (with probability ``p_reveal``)."""
        n = bins.shape[0]
        for ev in self.world.evidence:
            c, j = self.cause_index[ev.cause], self.tag_index[ev.tag]
            hit = causes[:, c] & (rng.random(n) < ev.p_reveal)
            k = int(hit.sum())
            if not k:
                continue
            targets = np.array([self.bin_index[ev.tag][b] for b in ev.bins])
            weights = np.asarray(ev.bin_weights, dtype=float)
            weights /= weights.sum()
            bins[hit, j] = targets[rng.choice(len(targets), size=k, p=weights)]
            pos[hit, j] = rng.random(k)
            missing[hit, j] = False

    def _raw(
        self,
        j: int,
        idx: np.ndarray,
        pos: np.ndarray,
        missing: np.ndarray,
        rng: np.random.Generator,
    ) -> np.ndarray:
        tag = self.world.tags[j]
        if tag.value_type == "numeric":
            return np.where(missing, np.nan, numeric_values(tag, idx, pos))
        values = spell_values(tag, idx, rng)
        values[missing] = None
        return values

    def _history(
        self, j: int, idx: np.ndarray, latent: np.ndarray, rng: np.random.Generator
    ) -> list[np.ndarray]:
        """Two earlier monthly values, each present for half the customers.

        Half of them stay in the current bin, the other half are fresh draws.
        """
        tag = self.world.tags[j]
        months = []
        for _ in range(2):
            fresh_idx, fresh_pos = sample_bins(tag, latent, rng)
            keep = rng.random(idx.shape[0]) < 0.5
            hist_idx = np.where(keep, idx, fresh_idx)
            hist_pos = np.where(keep, rng.random(idx.shape[0]), fresh_pos)
            values = numeric_values(tag, hist_idx, hist_pos)
            months.append(np.where(rng.random(idx.shape[0]) < 0.5, np.nan, values))
        return months

    def _labels(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = len(self.world.domains)
        labelled = (rng.random(n) < self.label_rate)[:, None]
        per_domain = labelled & (rng.random((n, d)) < self.world.params.domain_label_rate)
        if d:
            none = labelled[:, 0] & ~per_domain.any(axis=1)
            per_domain[np.flatnonzero(none), rng.integers(0, d, int(none.sum()))] = True
        return per_domain
