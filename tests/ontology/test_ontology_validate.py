"""Every validation problem class: one small broken file each; code, file, line and concept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from needgraph.ontology.io_yaml import read_yaml
from needgraph.ontology.validate import validate
from tests.ontology.conftest import MINI_FILES

MARK = "# <-"


def _cause(extra: str, cid: str = "cause.broken", kind: str = "Cause") -> str:
    return f"""concepts:
  - id: {cid}
    kind: {kind}
    label: {{zh: 坏的, en: broken}}
    definition: {{zh: 坏的, en: broken}}
{extra}"""


def _tag(extra: str, cid: str = "tag.broken") -> str:
    return f"""concepts:
  - id: {cid}
    kind: Tag
    label: {{zh: 坏标签, en: broken tag}}
    definition: {{zh: 坏标签, en: broken tag}}
{extra}"""


LOW_HIGH = (
    "      - {id: low, label: {zh: 低, en: low}, max: %s}\n"
    "      - {id: high, label: {zh: 高, en: high}, min: %s}\n"
)
BOOL = (
    "    value_type: boolean\n    bins:\n"
    "      - {id: 'yes', label: {zh: 是, en: 'yes'}, values: [y]}\n"
    "      - {id: 'no', label: {zh: 否, en: 'no'}, values: [n]}\n"
)
CAT = "    value_type: categorical\n    bins:  # <-\n"


def _mark_id(text: str, cid: str) -> str:
    return text.replace(f"  - id: {cid}\n", f"  - id: {cid}  # <-\n", 1)


def _more(text: str) -> str:
    return text.removeprefix("concepts:\n")


# (code, concept id, file text with the expected line marked "# <-")
CASES: list[tuple[str, str | None, str]] = [
    ("yaml-syntax", None, "concepts:\n  - id: cause.x\n    label: {zh: a, en: b\n  - x: y  # <-\n"),
    ("invalid-file", None, "things: []  # <-\n"),
    (
        "duplicate-key",
        None,
        _cause("    affects: [domain.home_net]\n    affects: [domain.billing]  # <-\n"),
    ),
    ("unknown-member", "cause.broken", _cause("    colour: red  # <-\n")),
    (
        "invalid-value",
        "strategy.broken",
        _cause("    channel: pigeon  # <-\n", "strategy.broken", "Strategy"),
    ),
    ("duplicate-manifest", None, "ontology:  # <-\n  name: other\n  version: 2.0.0\n"),
    (
        "duplicate-id",
        "cause.bill_shock",
        _mark_id(_cause("", "cause.bill_shock"), "cause.bill_shock"),
    ),
    ("invalid-id", "cause.Bad-Id", _mark_id(_cause("", "cause.Bad-Id"), "cause.Bad-Id")),
    ("id-prefix", "need.broken", _mark_id(_cause("", "need.broken"), "need.broken")),
    (
        "member-not-for-kind",
        "need.broken",
        _cause("    blocks: [need.stable_evening]  # <-\n", "need.broken", "Need"),
    ),
    (
        "member-not-for-kind",
        "tag.broken",
        _tag("    value_type: group\n    broader: [tag.network]  # <-\n"),
    ),
    (
        "missing-label",
        "cause.broken",
        _cause("").replace("label: {zh: 坏的, en: broken}", "label: {zh: 坏的}  # <-"),
    ),
    (
        "missing-definition",
        "cause.broken",
        _cause("").replace("definition: {zh: 坏的, en: broken}", "definition: {en: broken}  # <-"),
    ),
    ("duplicate-label", "cause.broken", _cause("    synonyms: {zh: [晚高峰擁塞]}  # <-\n")),
    (
        "duplicate-label",
        "cause.broken",
        _cause("    synonyms: {en: [' Evening  CONGESTION']}  # <-\n"),
    ),
    ("dangling-reference", "cause.broken", _cause("    blocks: [need.nowhere]  # <-\n")),
    ("wrong-target-kind", "cause.broken", _cause("    blocks: [domain.home_net]  # <-\n")),
    (
        "cycle",
        "cause.cyc_a",
        _cause("    broader: [cause.cyc_b]  # <-\n", "cause.cyc_a")
        + _more(_cause("    broader: [cause.cyc_a]\n", "cause.cyc_b")),
    ),
    (
        "cycle",
        "tag.cyc_a",
        _tag("    value_type: group\n    parent: tag.cyc_b  # <-\n", "tag.cyc_a")
        + _more(_tag("    value_type: group\n    parent: tag.cyc_a\n", "tag.cyc_b")),
    ),
    ("deprecated-without-replacement", "cause.broken", _cause("    deprecated: true  # <-\n")),
    (
        "replaced-by-not-deprecated",
        "cause.broken",
        _cause("    replaced_by: cause.bill_shock  # <-\n"),
    ),
    (
        "replacement-wrong-kind",
        "cause.broken",
        _cause("    deprecated: true\n    replaced_by: need.stable_evening  # <-\n"),
    ),
    (
        "replacement-deprecated",
        "cause.broken",
        _cause("    deprecated: true\n    replaced_by: cause.old  # <-\n")
        + _more(_cause("    deprecated: true\n    replaced_by: cause.bill_shock\n", "cause.old")),
    ),
    ("missing-value-type", "tag.broken", _mark_id(_tag(""), "tag.broken")),
    ("missing-bins", "tag.broken", _tag("    value_type: numeric  # <-\n")),
    (
        "invalid-bins",
        "tag.broken",
        _tag(
            "    value_type: group\n    bins:  # <-\n"
            "      - {id: a, label: {zh: 甲, en: a}, max: 1}\n"
        ),
    ),
    (
        "duplicate-bin",
        "tag.broken",
        _mark_id(
            _tag(
                "    value_type: categorical\n    bins:\n"
                "      - {id: a, label: {zh: 甲, en: a}, values: [x]}\n"
                "      - {id: a, label: {zh: 乙, en: b}, values: [y]}\n"
            ),
            "tag.broken",
        ),
    ),
    (
        "invalid-bin-id",
        "tag.broken",
        _tag(CAT + "      - {id: a=b, label: {zh: 甲, en: a}, values: [x]}\n"),
    ),
    (
        "bins-overlap",
        "tag.broken",
        _tag("    value_type: numeric\n    bins:  # <-\n" + LOW_HIGH % (60, 50)),
    ),
    (
        "bins-gap",
        "tag.broken",
        _tag("    value_type: numeric\n    bins:  # <-\n" + LOW_HIGH % (40, 50)),
    ),
    (
        "duplicate-bin-value",
        "tag.broken",
        _tag(
            CAT + "      - {id: a, label: {zh: 甲, en: a}, values: [FTTH]}\n"
            "      - {id: b, label: {zh: 乙, en: b}, values: [' ftth ']}\n"
        ),
    ),
    (
        "invalid-weight",
        "tag.broken",
        _tag(
            BOOL
            + "    indicates:  # <-\n"
            + "      - {cause: cause.bill_shock, weight: 1.5, when: ['yes']}\n"
        ),
    ),
    (
        "unknown-bin",
        "tag.broken",
        _tag(
            BOOL
            + "    indicates:  # <-\n"
            + "      - {cause: cause.bill_shock, weight: 0.5, when: [maybe]}\n"
        ),
    ),
    (
        "unknown-bin",
        "strategy.broken",
        _cause(
            "    eligibility:  # <-\n      any:\n        - {tag: tag.access_type, in: [copper]}\n",
            "strategy.broken",
            "Strategy",
        ),
    ),
    (
        "unknown-tag",
        "segment.broken",
        _cause(
            "    rule:  # <-\n      not: {tag: tag.no_such_tag, in: [high]}\n",
            "segment.broken",
            "Segment",
        ),
    ),
    (
        "missing-rule",
        "segment.broken",
        _mark_id(_cause("", "segment.broken", "Segment"), "segment.broken"),
    ),
    (
        "invalid-cost",
        "strategy.broken",
        _cause("    cost: -5  # <-\n", "strategy.broken", "Strategy"),
    ),
]


def test_the_mini_ontology_is_valid(mini_dir: Path):
    assert validate(read_yaml(mini_dir)) == []


@pytest.mark.parametrize(
    ("code", "concept", "text"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_each_problem_is_reported_with_file_line_and_concept(
    make_dir: Callable[..., Path], code: str, concept: str | None, text: str
):
    root = make_dir({"zz_broken.yaml": text})
    line = next(n for n, row in enumerate(text.splitlines(), 1) if MARK in row)
    problems = validate(read_yaml(root))
    broken = str(root / "zz_broken.yaml")
    found = [(p.code, p.file, p.line, p.concept) for p in problems]
    assert (code, broken, line, concept) in found
    # the valid part of the ontology stays clean: every problem is in the broken file
    assert {p.file for p in problems} == {broken}, [str(p) for p in problems]
    printed = next(str(p) for p in problems if p.code == code)
    assert printed.startswith(f"{broken}:{line}: [{code}]")
    assert "(fix: " in printed or not next(p for p in problems if p.code == code).hint


def test_every_problem_is_reported_not_just_the_first(make_dir: Callable[..., Path]):
    text = _cause("    blocks: [need.nowhere, domain.home_net]\n    colour: red\n")
    text = text.replace("{zh: 坏的, en: broken}\n    definition", "{zh: 坏的}\n    definition")
    problems = validate(read_yaml(make_dir({"zz_broken.yaml": text})))
    assert {p.code for p in problems} == {
        "dangling-reference",
        "wrong-target-kind",
        "unknown-member",
        "missing-label",
    }


def test_missing_manifest_and_bad_version(make_dir: Callable[..., Path]):
    files = MINI_FILES
    no_manifest = make_dir(base={k: v for k, v in files.items() if k != "ontology.yaml"})
    assert [p.code for p in validate(read_yaml(no_manifest))] == ["missing-manifest"]
    bad = make_dir({"ontology.yaml": files["ontology.yaml"].replace("1.0.0", "1.0")})
    problems = validate(read_yaml(bad))
    assert [(p.code, p.file, p.line) for p in problems] == [
        ("invalid-version", str(bad / "ontology.yaml"), 3)
    ]


def test_a_concept_that_cannot_be_read_does_not_cascade(make_dir: Callable[..., Path]):
    # strategy.broken fails to parse; the segment naming it only gets the real problems
    text = _cause("    channel: pigeon\n", "strategy.broken", "Strategy")
    text += _cause("    broader: [strategy.broken]\n", "strategy.other", "Strategy").removeprefix(
        "concepts:\n"
    )
    codes = [p.code for p in validate(read_yaml(make_dir({"zz_broken.yaml": text})))]
    assert codes == ["invalid-value"]
