"""Mapping files: validation with line numbers, forbidden columns, ontology references."""

from __future__ import annotations

from pathlib import Path

import pytest

from needgraph.errors import NeedgraphError
from needgraph.ingest.errors import ForbiddenColumnError, MappingError
from needgraph.ingest.mapping_check import check_mapping
from needgraph.ingest.mapping_io import load_mapping, parse_mapping
from tests.ingest.conftest import tiny_ontology, write_yaml

GOOD = """\
dataset: demo
customer_id: id
never_inputs: [Churn Label, CLTV]
files:
  - path: data.csv
    ignore: [City]
    attributes: {Latitude: latitude}
    tags:
      columns:
        Tenure: tag.tenure_months
        Internet: {tag: tag.internet_type, values: {Fibre: Fiber Optic, Unknown: null}}
    strategies:
      strategy: Offer
      values: {None: null, Offer A: strategy.speed_trial}
    labels:
      score: Satisfaction
      domain: domain.overall
    text:
      column: Reason
      channel: survey
      lang: en
"""


def test_good_mapping_parses() -> None:
    doc = parse_mapping(GOOD)
    spec = doc.mapping.files[0]
    assert spec.kinds() == ("tags", "text", "strategies", "labels")
    assert spec.strategies[0].values == {"None": None, "Offer A": "strategy.speed_trial"}
    assert spec.tags is not None and spec.tags.wide()["Internet"].values["Unknown"] is None
    assert doc.mapping.resolved(spec).customer_id == "id"
    check_mapping(doc, tiny_ontology())


def test_yes_no_and_numbers_stay_text() -> None:
    doc = parse_mapping(GOOD.replace("Fibre: Fiber Optic", "Yes: No, 1: 2"))
    spec = doc.mapping.files[0]
    assert spec.tags is not None
    assert spec.tags.wide()["Internet"].values["Yes"] == "No"
    assert spec.tags.wide()["Internet"].values["1"] == "2"


def test_errors_name_line_and_member(tmp_path: Path) -> None:
    bad = GOOD.replace("      channel: survey\n", "      channel: survey\n      colour: red\n")
    bad = bad.replace("domain: domain.overall", "domain: domain.overall\n      scale: 10")
    path = write_yaml(tmp_path / "bad.yaml", bad)
    with pytest.raises(MappingError) as info:
        load_mapping(path)
    text = str(info.value)
    assert "2 problem(s)" in text
    assert f"{path}:18: files[0].labels[0].scale: Extra inputs are not permitted" in text
    assert f"{path}:22: files[0].text[0].colour" in text


def test_forbidden_column_is_refused_with_line() -> None:
    bad = GOOD.replace("Tenure: tag.tenure_months", "CLTV: tag.tenure_months")
    with pytest.raises(ForbiddenColumnError) as info:
        parse_mapping(bad)
    assert "mapping:10: files[0].tags.columns.CLTV" in info.value.detail
    assert "never_inputs" in info.value.detail
    assert isinstance(info.value, NeedgraphError) and info.value.hint


def test_label_column_cannot_be_an_input() -> None:
    bad = GOOD.replace("Tenure: tag.tenure_months", "Satisfaction: tag.tenure_months")
    with pytest.raises(MappingError, match="label and also an input"):
        parse_mapping(bad)


def test_ignored_and_mapped_is_refused() -> None:
    with pytest.raises(MappingError, match="listed in ignore but mapped"):
        parse_mapping(GOOD.replace("ignore: [City]", "ignore: [Tenure]"))


def test_long_and_wide_tags_are_exclusive() -> None:
    bad = GOOD.replace("    tags:\n      columns:", "    tags:\n      long: {}\n      columns:")
    with pytest.raises(MappingError, match="exactly one"):
        parse_mapping(bad)


def test_unknown_concepts_are_listed_with_lines() -> None:
    doc = parse_mapping(GOOD.replace("tag.tenure_months", "tag.no_such_tag")
                        .replace("strategy.speed_trial", "strategy.nope")
                        .replace("domain.overall", "domain.nope"))
    with pytest.raises(MappingError) as info:
        check_mapping(doc, tiny_ontology())
    detail = info.value.detail
    assert "3 concept(s)" in detail
    assert ("mapping:10: files[0].tags.columns.Tenure: tag 'tag.no_such_tag' is not in the "
            "ontology") in detail
    assert "strategy 'strategy.nope'" in detail and "domain 'domain.nope'" in detail


def test_wrong_kind_is_reported() -> None:
    doc = parse_mapping(GOOD.replace("tag.tenure_months", "domain.overall"))
    with pytest.raises(MappingError, match="is a Domain, not a Tag"):
        check_mapping(doc, tiny_ontology())


def test_shipped_mappings_parse() -> None:
    root = Path(__file__).resolve().parents[2] / "mappings"
    for path in sorted(root.glob("*.yaml")):
        doc = load_mapping(path)
        assert doc.mapping.never_inputs, path
