"""zh / en sentences built from ontology labels (both languages name the same concept ids).

Standard library only. Every builder takes a ``labels`` mapping
``concept id -> {"zh": ..., "en": ...}`` and returns the sentence together with the concept ids
it names, so callers (and tests) can check that the Chinese and the English sentence talk about
exactly the same concepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Labels = Mapping[str, Mapping[str, str]]
LANGS: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True)
class Sentence:
    """A rendered sentence and the concept ids it names, in order of appearance.

    Attributes:
        text: The sentence.
        lang: ``zh`` or ``en``.
        concepts: Concept ids named in ``text``.
    """

    text: str
    lang: str
    concepts: tuple[str, ...]


def label(labels: Labels, concept_id: str, lang: str) -> str:
    """Label of ``concept_id`` in ``lang``; falls back to the other language, then the id."""
    entry = labels.get(concept_id, {})
    for candidate in (lang, *LANGS):
        text = entry.get(candidate)
        if text:
            return text
    return concept_id


def _check(lang: str) -> None:
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; use one of {LANGS}")


def path_sentence(
    labels: Labels,
    lang: str,
    cause: str,
    domain: str,
    needs: Sequence[str],
    tag_evidence: Sequence[tuple[str, str, str]],
    text_evidence: Sequence[str],
) -> Sentence:
    """One explanation path as a sentence.

    Args:
        labels: Concept labels.
        lang: ``zh`` or ``en``.
        cause: Cause id.
        domain: Domain id.
        needs: Need ids the cause blocks.
        tag_evidence: ``(tag id, bin id, raw value)`` triples.
        text_evidence: Quoted text spans (already masked).
    """
    _check(lang)
    named: list[str] = []
    parts: list[str] = []
    for tag, tag_bin, value in tag_evidence:
        named += [tag, tag_bin]
        t, b = label(labels, tag, lang), label(labels, tag_bin, lang)
        parts.append(f"{t}: {value} ({b})" if lang == "en" else f"{t}为{value}（{b}）")
    quotes = [f"“{q}”" for q in text_evidence]
    c, d = label(labels, cause, lang), label(labels, domain, lang)
    named.append(cause)
    need_labels = [label(labels, n, lang) for n in needs]
    if lang == "en":
        what = "; ".join(parts)
        if quotes:
            what = (what + "; " if what else "") + "they said " + ", ".join(quotes)
        text = f"{what} - points to {c}, which hurts {d}"
        if need_labels:
            text += " by blocking the need " + ", ".join(need_labels)
    else:
        what = "；".join(parts)
        if quotes:
            what = (what + "；" if what else "") + "客户表示" + "、".join(quotes)
        text = f"{what}——指向原因「{c}」，影响{d}"
        if need_labels:
            text += "，阻碍需求「" + "、".join(need_labels) + "」"
    named.append(domain)
    named += list(needs)
    return Sentence(text + ("." if lang == "en" else "。"), lang, tuple(named))


def summary_sentence(
    labels: Labels,
    lang: str,
    customer: str,
    domain: str,
    p_dissatisfied: float,
    causes: Sequence[str],
) -> Sentence:
    """Headline: predicted dissatisfaction and the main causes, or the honest "no strong driver"."""
    _check(lang)
    d = label(labels, domain, lang)
    names = [label(labels, c, lang) for c in causes]
    pct = f"{100 * p_dissatisfied:.0f}%"
    if lang == "en":
        text = f"Customer {customer}: P(dissatisfied with {d}) = {pct}. "
        text += ("Main causes: " + ", ".join(names) + ".") if names else "No strong driver found."
    else:
        text = f"客户{customer}对{d}不满意的概率为{pct}。"
        text += ("主要原因：" + "、".join(names) + "。") if names else "未发现明显原因。"
    return Sentence(text, lang, (domain, *causes))


def action_sentence(
    labels: Labels,
    lang: str,
    strategy: str,
    causes: Sequence[str],
    change: float,
    rate: float | None,
    n: int,
) -> Sentence:
    """One recommended action as a sentence."""
    _check(lang)
    s = label(labels, strategy, lang)
    names = [label(labels, c, lang) for c in causes]
    if lang == "en":
        text = f"Recommend {s} (expected {change:+.2f}"
        if rate is not None and n > 0:
            text += f"; accepted by {100 * rate:.0f}% of {n} similar customers offered it"
        elif rate is not None:
            text += "; not yet offered to similar customers"
        text += ")"
        if names:
            text += " - addresses " + ", ".join(names)
        text += "."
    else:
        text = f"推荐「{s}」（预计{change:+.2f}"
        if rate is not None and n > 0:
            text += f"；获推荐的{n}位相似客户中{100 * rate:.0f}%接受"
        elif rate is not None:
            text += "；尚未向相似客户推荐过"
        text += "）"
        if names:
            text += "，针对" + "、".join(f"「{n_}」" for n_ in names)
        text += "。"
    return Sentence(text, lang, (strategy, *causes))
