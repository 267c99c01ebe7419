"""Prediction heads, losses and decoding for 1-5 satisfaction scores.

The score head is ordinal: per customer and domain it gives four cumulative logits
``l_k = logit P(y > k)`` for ``k = 1..4``, made monotone (``l_1 >= l_2 >= l_3 >= l_4``) by
construction, so the five class probabilities are always valid. Unlike a proportional-odds model
every threshold has its own logit, because what separates 1-2 from 3 (e.g. churn) is not what
separates 3 from 4-5 on real data. A regression head and a binary "dissatisfied" head are
trained jointly and ensembled with the ordinal head at decoding time.

Decoding (:func:`decode`): the band (1-2 / 3 / 4-5) with the highest probability is chosen, and
the score is the median of the class distribution clipped into that band - the value that
minimises expected absolute error among the scores of the most probable band.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

LEVELS = 5  #: score levels 1..5
DISSATISFIED_MAX = 2  #: a score <= 2 counts as dissatisfied
#: Bands over 0-based class indices: 1-2, 3, 4-5.
BANDS: tuple[tuple[int, int], ...] = ((0, 1), (2, 2), (3, 4))
HEAD_WIDTH = LEVELS - 1 + 2  #: per domain: 4 cumulative logits, 1 regression, 1 dissatisfied


@dataclass
class HeadOutput:
    """Raw head outputs for ``n`` customers and ``d`` domains.

    Attributes:
        cum: Monotone cumulative logits ``logit P(y > k)``, shape ``[n, d, 4]``.
        reg: Regression output on the 1-5 scale, shape ``[n, d]``.
        dis: Logit of P(score <= 2), shape ``[n, d]``.
    """

    cum: Tensor
    reg: Tensor
    dis: Tensor


def split_head(raw: Tensor, n_domains: int) -> HeadOutput:
    """Turn the final linear layer's output into :class:`HeadOutput`.

    Args:
        raw: Shape ``[n, n_domains * HEAD_WIDTH]``.
        n_domains: Number of labelled domains.
    """
    import torch
    from torch.nn import functional

    r = raw.view(raw.shape[0], n_domains, HEAD_WIDTH)
    first = r[..., :1]
    steps = functional.softplus(r[..., 1 : LEVELS - 1])
    cum = torch.cat([first, first - torch.cumsum(steps, dim=-1)], dim=-1)
    return HeadOutput(cum=cum, reg=3.0 + r[..., LEVELS - 1], dis=r[..., LEVELS])


def class_probs(cum: Tensor) -> Tensor:
    """Class probabilities ``[n, d, 5]`` from monotone cumulative logits ``[n, d, 4]``."""
    import torch

    gt = torch.sigmoid(cum)
    ones = torch.ones_like(gt[..., :1])
    zeros = torch.zeros_like(gt[..., :1])
    upper = torch.cat([ones, gt], dim=-1)
    lower = torch.cat([gt, zeros], dim=-1)
    return (upper - lower).clamp_min(0.0)


def head_loss(
    out: HeadOutput, y: Tensor, mask: Tensor, weights: tuple[float, float, float] = (1.0, 0.5, 0.5)
) -> Tensor:
    """Joint loss over labelled (customer, domain) pairs only.

    Args:
        out: Head outputs for ``n`` customers.
        y: Scores, shape ``[n, d]`` (ignored where ``mask`` is false).
        mask: Which pairs carry a label, shape ``[n, d]``.
        weights: Weights of the ordinal, regression and dissatisfied losses.

    Returns:
        Scalar loss (0 when nothing is labelled).
    """
    import torch
    from torch.nn import functional

    if not bool(mask.any()):
        return out.cum.sum() * 0.0
    yk = y[mask].round().clamp(1, LEVELS)
    thresholds = torch.arange(1, LEVELS, device=y.device, dtype=y.dtype)
    target = (yk[:, None] > thresholds[None, :]).to(out.cum.dtype)
    ordinal = functional.binary_cross_entropy_with_logits(out.cum[mask], target) * (LEVELS - 1)
    reg = functional.smooth_l1_loss(out.reg[mask], y[mask])
    dis = functional.binary_cross_entropy_with_logits(
        out.dis[mask], (y[mask] <= DISSATISFIED_MAX).to(out.dis.dtype)
    )
    return weights[0] * ordinal + weights[1] * reg + weights[2] * dis


def decode(probs: Tensor, reg: Tensor | None = None, reg_weight: float = 0.0) -> Tensor:
    """Scores ``[n, d]`` from class probabilities ``[n, d, 5]`` (band-constrained median).

    Args:
        probs: Class probabilities.
        reg: Optional regression output ``[n, d]`` blended into the median before clipping.
        reg_weight: Weight of ``reg`` in that blend (0 = ordinal median only).
    """
    import torch

    band_p = torch.stack([probs[..., lo : hi + 1].sum(-1) for lo, hi in BANDS], dim=-1)
    band = band_p.argmax(-1)
    cdf = probs.cumsum(-1)
    median = 1.0 + (cdf < 0.5).sum(-1).to(probs.dtype)
    centre = median if reg is None else (1 - reg_weight) * median + reg_weight * reg
    lo = torch.tensor([b[0] + 1.0 for b in BANDS], dtype=probs.dtype)[band]
    hi = torch.tensor([b[1] + 1.0 for b in BANDS], dtype=probs.dtype)[band]
    return torch.minimum(torch.maximum(centre, lo), hi)


def label_features(y: Tensor, mask: Tensor, use: Tensor) -> Tensor:
    """Known labels as customer inputs (the "label trick"), ``[n, d * (LEVELS + 1)]``.

    Per domain: a one-hot of the rounded score and a "label known" flag, set only for customers
    in ``use`` that carry a label; zeros everywhere else (test and unlabelled customers).

    Args:
        y: Scores ``[n, d]``.
        mask: Label present ``[n, d]``.
        use: Customers whose label may be shown, bool ``[n]``.
    """
    import torch

    known = mask & use[:, None]
    level = (y.round().clamp(1, LEVELS).long() - 1).clamp_min(0)
    onehot = torch.nn.functional.one_hot(level, LEVELS).to(y.dtype)
    feats = torch.cat([onehot, torch.ones_like(y)[..., None]], dim=-1) * known[..., None]
    return feats.reshape(y.shape[0], -1)


def p_dissatisfied(probs: Tensor, dis_logit: Tensor) -> Tensor:
    """P(score <= 2) ``[n, d]``: mean of the ordinal head's and the binary head's estimates."""
    import torch

    return 0.5 * (probs[..., :DISSATISFIED_MAX].sum(-1) + torch.sigmoid(dis_logit))
