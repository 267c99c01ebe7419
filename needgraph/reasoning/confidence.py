"""How sure is a cause? A posterior-style confidence from the labels the model was trained on.

The model's attribution says how much an evidence item *moves the prediction*; it cannot say
whether this customer's item is a real symptom or a coincidence. A tag bin in a range that
indicates a cause is also occupied by chance (every indicating bin has a base rate), and a
customer in it by chance looks to the model exactly like one in it because of the cause.

The labels can tell them apart on average. Among customers dissatisfied with the domain a bin
is occupied more often than among satisfied ones when it comes with a cause that hurts the domain;
its **likelihood ratio** ``LR = P(bin | dissatisfied) / P(bin | satisfied)`` is estimated per
domain from the labelled customers of the exported graph. If satisfied customers sit in the bin at
its chance rate, the share of its occupants among dissatisfied customers that chance does not
account for - the *attributable fraction* ``1 - 1/LR`` - is the posterior probability that a
dissatisfied customer's bin is a real symptom (epidemiology's "attributable fraction among the
exposed"; conservative when a cause leaves some of its customers satisfied). A text mention is
not a chance occupancy: its probability is the linker's confidence that the text asserts the
cause (:meth:`~needgraph.reasoning.causes.ConceptIndex.excess`).

A cause's **confidence** combines its items as independent evidence (noisy-OR)::

    confidence(z) = 1 - prod_i (1 - share_iz * excess_iz)

where ``share_iz`` is the part of item ``i``'s attribution that explaining away gives to ``z``
(:func:`~needgraph.reasoning.causes.rank_causes`) and ``excess_iz`` the item's probability of
being a real sign of ``z`` (above). Two independent items for one cause therefore count more than
one; an item the model does not use (attribution <= 0) counts for nothing. Ratios are shrunk
towards 1 by ``KAPPA`` pseudo-customers who sit in the bin with no association, so a rare bin is
not trusted on a handful of counts. A domain without enough labelled customers on both sides
falls back to the ontology link weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor
    from torch_geometric.data import HeteroData

#: Pseudo-customers without association (split like the labelled population) in every ratio.
KAPPA = 1.0
#: Labelled customers needed on each side (dissatisfied, satisfied) to estimate ratios.
MIN_LABELLED = 20
#: Edges counted per step (bounds the temporary ``[chunk, domains]`` tensors).
CHUNK = 4_000_000
#: Scores at or below this are dissatisfied (as ``P(dissatisfied)`` is ``P(score <= 2)``).
DISSATISFIED_SCORE = 2.0


def attributable_fraction(a: float, b: float, n_dis: float, n_sat: float) -> float:
    """``max(0, 1 - 1/LR)`` of an item seen ``a`` times among ``n_dis``, ``b`` among ``n_sat``.

    Args:
        a: Dissatisfied customers with the item.
        b: Satisfied customers with the item.
        n_dis: Dissatisfied labelled customers.
        n_sat: Satisfied labelled customers.

    Returns:
        The shrunk attributable fraction in ``[0, 1)``.
    """
    total = n_dis + n_sat
    if n_dis <= 0 or n_sat <= 0:
        return 0.0
    # KAPPA pseudo-customers, split like the labelled population, carry the item with no
    # association (their LR is 1): a rare item's ratio is pulled towards 1
    p_dis = (a + KAPPA * n_dis / total) / n_dis
    p_sat = (b + KAPPA * n_sat / total) / n_sat
    return max(0.0, 1.0 - p_sat / p_dis)


class EvidenceStats:
    """Per-domain counts of tag bins among dissatisfied and satisfied labelled customers.

    Args:
        data: Exported graph (``customer.y`` / ``y_mask`` ``[n, d]`` 1-5 scores and
            ``has_tag`` edges); ``None`` or no labels = no statistics.
        domains: Domain ids in the order of ``y``'s columns.
    """

    def __init__(self, data: HeteroData | None, domains: Sequence[str]) -> None:
        self.domains = list(domains)
        self.n_dis: list[float] = []
        self.n_sat: list[float] = []
        self.bins: dict[str, list[tuple[float, float]]] = {}
        if data is None or not self.domains or "customer" not in data.node_types:
            return
        y, mask = data["customer"].get("y"), data["customer"].get("y_mask")
        if y is None or mask is None or y.dim() != 2 or y.shape[1] != len(self.domains):
            return
        self._count(data, y, mask)

    def _count(self, data: HeteroData, y: Tensor, mask: Tensor) -> None:
        import torch

        dis = ((y <= DISSATISFIED_SCORE) & mask).float()  # [n, d]
        sat = ((y > DISSATISFIED_SCORE) & mask).float()
        self.n_dis, self.n_sat = dis.sum(0).tolist(), sat.sum(0).tolist()
        et = ("customer", "has_tag", "tag_bin")
        if et in data.edge_types:
            ei = data[et].edge_index
            n_bins = int(data["tag_bin"].num_nodes)
            cd = torch.zeros(n_bins, dis.shape[1])  # exact: counts stay far below 2**24
            cs = torch.zeros_like(cd)
            for start in range(0, int(ei.shape[1]), CHUNK):  # bounded memory at 1M customers
                src, dst = ei[0, start : start + CHUNK], ei[1, start : start + CHUNK]
                cd.index_add_(0, dst, dis[src])
                cs.index_add_(0, dst, sat[src])
            self.bins = _table(list(data["tag_bin"].node_key), cd, cs)

    def _fraction(
        self, table: Mapping[str, list[tuple[float, float]]], key: str, domain: str
    ) -> float | None:
        if domain not in self.domains or not self.n_dis:
            return None
        j = self.domains.index(domain)
        nd, ns = self.n_dis[j], self.n_sat[j]
        if nd < MIN_LABELLED or ns < MIN_LABELLED:
            return None
        a, b = table[key][j] if key in table else (0.0, 0.0)
        return attributable_fraction(a, b, nd, ns)

    def tag(self, bin_key: str, domain: str) -> float | None:
        """Attributable fraction of a tag bin for ``domain`` (``None``: too few labels)."""
        return self._fraction(self.bins, bin_key, domain)


def _table(keys: Sequence[str], cd: Tensor, cs: Tensor) -> dict[str, list[tuple[float, float]]]:
    """Key -> per domain ``(dissatisfied count, satisfied count)``, for keys seen at least once."""
    seen = ((cd + cs).sum(1) > 0).nonzero().flatten().tolist()
    dl, sl = cd.tolist(), cs.tolist()
    return {keys[i]: list(zip(dl[i], sl[i], strict=True)) for i in seen}


def noisy_or(
    paths: Mapping[str, Sequence[tuple[int, float, float]]],
    attribution: Sequence[float],
    excess: Mapping[tuple[int, str], float],
) -> dict[str, float]:
    """Confidence per cause: ``1 - prod_i (1 - share_iz * excess_iz)`` over its path items.

    Args:
        paths: Per cause, ``(item index, link weight, path weight)`` as
            :func:`~needgraph.reasoning.causes.rank_causes` returns them (path weight = the
            item's attribution times its share for the cause).
        attribution: Per item, its attribution (log-odds).
        excess: ``(item index, cause) -> `` attributable fraction of the item for the cause.

    Returns:
        Cause -> confidence in ``[0, 1]``.
    """
    out: dict[str, float] = {}
    for cause, rows in paths.items():
        doubt = 1.0
        for i, _, weight in rows:
            a = attribution[i]
            if a <= 0:
                continue
            share = min(max(weight / a, 0.0), 1.0)
            doubt *= 1.0 - share * min(max(excess.get((i, cause), 0.0), 0.0), 1.0)
        out[cause] = 1.0 - doubt
    return out
