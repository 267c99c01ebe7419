"""YAML, Turtle and JSON forms: byte-identical round trips, equal content across forms."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import OWL, RDF, SKOS, Graph, Literal, URIRef

from needgraph.ontology.core import Ontology
from needgraph.ontology.files import export_text, read_ontology, write_ontology
from needgraph.ontology.io_yaml import read_yaml, write_yaml_dir
from needgraph.ontology.model import Concept
from needgraph.ontology.validate import validate
from tests.ontology.conftest import MINI_FILES, write_files

SUFFIX = {"yaml": ".yaml", "turtle": ".ttl", "json": ".json"}
REPO = Path(__file__).resolve().parents[2]


def _deprecated_variant(mini: Ontology) -> Ontology:
    """The mini ontology with one deprecated concept (so every member kind is exercised)."""
    old = mini["cause.peak_hour_slowness"]
    gone = old.model_copy(update={"deprecated": True, "replaced_by": "cause.evening_congestion"})
    return mini.replace(concepts=[gone if c.id == old.id else c for c in mini])


@pytest.mark.parametrize("form", ["yaml", "turtle", "json"])
def test_export_import_export_is_byte_identical(mini: Ontology, tmp_path: Path, form: str):
    ontology = _deprecated_variant(mini)
    first = export_text(ontology, form)
    path = tmp_path / f"first{SUFFIX[form]}"
    path.write_text(first, encoding="utf-8")
    again = read_ontology(path)
    assert again.provenance.problems == ()
    assert again == ontology
    assert again.content_hash() == ontology.content_hash()
    assert export_text(again, form) == first


def test_yaml_folder_round_trip_is_byte_identical_and_keeps_the_layout(
    mini: Ontology, tmp_path: Path
):
    first = write_yaml_dir(mini, tmp_path / "a")
    names = sorted(p.relative_to(tmp_path / "a").as_posix() for p in first)
    assert names == ["actions.yaml", "core.yaml", "ontology.yaml", "tags/tags.yaml"]
    second = write_yaml_dir(read_yaml(tmp_path / "a"), tmp_path / "b")
    for a, b in zip(sorted(first), sorted(second), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    assert read_yaml(tmp_path / "b") == mini


def test_new_concepts_go_to_their_kind_file_and_file_order_is_kept(mini: Ontology, tmp_path):
    extra = Concept(
        id="need.fast_repair",
        kind="Need",
        label={"zh": "快速修复", "en": "fast repair"},
        definition={"zh": "故障很快修好", "en": "faults fixed quickly"},
    )
    written = write_yaml_dir(mini.replace(concepts=[*mini, extra]), tmp_path / "out")
    assert tmp_path / "out" / "needs.yaml" in written
    assert "need.fast_repair" in (tmp_path / "out" / "needs.yaml").read_text(encoding="utf-8")
    core = (tmp_path / "out" / "core.yaml").read_text(encoding="utf-8")
    assert core.index("domain.home_net") < core.index("domain.billing")  # as the editor wrote it


@pytest.mark.parametrize(("src", "via"), [("yaml", "turtle"), ("yaml", "json"), ("turtle", "json")])
def test_cross_format_gives_equal_ontology_and_hash(mini: Ontology, tmp_path: Path, src, via):
    ontology = _deprecated_variant(mini)
    start = write_ontology(ontology, tmp_path / f"start{SUFFIX[src]}", src)[0]
    middle = write_ontology(read_ontology(start), tmp_path / f"mid{SUFFIX[via]}", via)[0]
    back = write_ontology(read_ontology(middle), tmp_path / f"back{SUFFIX[src]}", src)[0]
    assert read_ontology(back) == ontology
    assert read_ontology(middle).content_hash() == ontology.content_hash()
    assert back.read_bytes() == start.read_bytes()


def test_turtle_speaks_skos_and_owl(mini: Ontology):
    graph = Graph().parse(data=export_text(_deprecated_variant(mini), "turtle"), format="turtle")
    node = URIRef("https://needgraph.dev/ontology/id/cause.evening_congestion")
    old = URIRef("https://needgraph.dev/ontology/id/cause.peak_hour_slowness")
    ng = "https://needgraph.dev/ontology#"
    assert (node, SKOS.prefLabel, Literal("晚高峰拥塞", lang="zh")) in graph
    assert (node, SKOS.prefLabel, Literal("evening congestion", lang="en")) in graph
    assert (node, SKOS.altLabel, Literal("晚上卡", lang="zh")) in graph
    assert (
        node,
        SKOS.broader,
        URIRef(node.replace("evening_congestion", "network_problem")),
    ) in graph
    assert (
        node,
        URIRef(ng + "blocks"),
        URIRef(node.replace("cause.evening_congestion", "need.stable_evening")),
    ) in graph
    assert (URIRef(ng + "Cause"), RDF.type, OWL.Class) in graph
    assert (node, RDF.type, URIRef(ng + "Cause")) in graph
    assert (old, OWL.deprecated, Literal(True)) in graph
    assert (old, URIRef("http://purl.org/dc/terms/isReplacedBy"), node) in graph
    assert any(graph.objects(node, SKOS.inScheme))


def test_unreadable_turtle_and_json_are_problems_not_crashes(tmp_path: Path):
    bad_ttl = tmp_path / "bad.ttl"
    bad_ttl.write_text("@prefix x: <http://x/> .\nx:a x:b ", encoding="utf-8")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"ontology": {"name": "x",\n "version": }', encoding="utf-8")
    assert "turtle-syntax" in [p.code for p in validate(read_ontology(bad_ttl))]
    json_problems = [(p.code, p.line) for p in validate(read_ontology(bad_json))]
    assert ("json-syntax", 2) in json_problems


def test_shipped_ontology_reads_and_round_trips_through_turtle(tmp_path: Path):
    shipped = read_ontology(REPO / "ontology")
    assert len(shipped) > 0
    assert [str(p) for p in shipped.provenance.problems] == []
    ttl = write_ontology(shipped, tmp_path / "shipped.ttl", "turtle")[0]
    assert read_ontology(ttl).content_hash() == shipped.content_hash()


def test_shipped_ontology_is_valid():
    """Fails until the seed ontology content in ontology/ is complete and consistent."""
    problems = validate(read_ontology(REPO / "ontology"))
    assert [str(p) for p in problems] == []


def test_hidden_folders_inside_the_ontology_are_skipped_but_a_hidden_parent_is_fine(tmp_path):
    root = write_files(tmp_path / ".cache" / "onto", MINI_FILES)
    write_files(root, {".backup/old.yaml": "concepts: [oops"})
    ontology = read_yaml(root)
    assert len(ontology) == 19 and validate(ontology) == []
