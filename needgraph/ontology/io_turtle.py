"""The Turtle form: SKOS concepts plus needgraph's own OWL vocabulary (opens in Protégé).

* Each concept is ``ngc:<id>``, typed ``skos:Concept``, ``owl:NamedIndividual`` and its kind as an
  OWL class (``ng:Need`` ...), ``skos:inScheme`` the scheme, with ``skos:prefLabel``,
  ``skos:altLabel`` and ``skos:definition`` tagged ``@zh``/``@en``, ``skos:broader``,
  ``owl:deprecated`` and ``dcterms:isReplacedBy``.
* Relation members are OWL object properties (``ng:affects``, ``ng:blocks``, ``ng:concerns``,
  ``ng:addresses``, ``ng:resolves``, ``ng:subTagOf``, ``ng:derivedFrom``); ``ng:valueType``,
  ``ng:unit``, ``ng:cost`` and ``ng:channel`` are data properties.
* Bins, indications, eligibility and segment rules are canonical-JSON literals of datatype
  ``ng:json`` on annotation properties (``ng:bins`` ...), so nothing is lost.
* The scheme ``ngs:<name>`` (a ``skos:ConceptScheme`` and ``owl:Ontology``) carries the manifest.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from rdflib import OWL, RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS

from needgraph.ontology.core import Ontology, canonical_json
from needgraph.ontology.model import KINDS, Concept, plain
from needgraph.ontology.parse import RawItem, build_ontology
from needgraph.ontology.problems import Location, Problem

NG = Namespace("https://needgraph.dev/ontology#")
NGC = Namespace("https://needgraph.dev/ontology/id/")
NGS = Namespace("https://needgraph.dev/ontology/scheme/")
JSON_TYPE = NG["json"]
OBJECT_PROPERTIES = {
    "domains": NG.concerns,
    "affects": NG.affects,
    "blocks": NG.blocks,
    "addresses": NG.addresses,
    "resolves": NG.resolves,
    "parent": NG.subTagOf,
    "derived_from": NG.derivedFrom,
}
DATA_PROPERTIES = {"value_type": NG.valueType, "unit": NG.unit, "channel": NG.channel}
JSON_PROPERTIES = {
    "bins": NG.bins,
    "indicates": NG.indicates,
    "eligibility": NG.eligibility,
    "rule": NG.rule,
}
_SAFE = "._-~"


def _iri(concept_id: str) -> URIRef:
    return NGC[quote(concept_id, safe=_SAFE)]


def _id(iri: object) -> str:
    text = str(iri)
    if text.startswith(str(NGC)):
        return unquote(text[len(str(NGC)) :])
    return unquote(text.rsplit("#", 1)[-1].rsplit("/", 1)[-1])


def _json(value: Any) -> Literal:
    return Literal(canonical_json(plain(value)), datatype=JSON_TYPE)


def _vocabulary(graph: Graph) -> None:
    for kind in KINDS:
        graph.add((NG[kind], RDF.type, OWL.Class))
        graph.add((NG[kind], RDFS.subClassOf, SKOS.Concept))
        graph.add((NG[kind], RDFS.label, Literal(kind)))
    for prop in [*OBJECT_PROPERTIES.values(), SKOS.broader, SKOS.inScheme, DCTERMS.isReplacedBy]:
        graph.add((prop, RDF.type, OWL.ObjectProperty))
    for prop in [*DATA_PROPERTIES.values(), NG.cost, NG.defaultLanguage]:
        graph.add((prop, RDF.type, OWL.DatatypeProperty))
    for prop in [*JSON_PROPERTIES.values(), NG.languages, SKOS.prefLabel, SKOS.altLabel]:
        graph.add((prop, RDF.type, OWL.AnnotationProperty))
    graph.add((SKOS.definition, RDF.type, OWL.AnnotationProperty))
    graph.add((JSON_TYPE, RDF.type, RDFS.Datatype))


def _add_concept(graph: Graph, scheme: URIRef, concept: Concept) -> None:
    node = _iri(concept.id)
    for type_ in (SKOS.Concept, OWL.NamedIndividual, NG[concept.kind]):
        graph.add((node, RDF.type, type_))
    graph.add((node, SKOS.inScheme, scheme))
    for lang in ("zh", "en"):
        for prop, text in ((SKOS.prefLabel, concept.label), (SKOS.definition, concept.definition)):
            if getattr(text, lang):
                graph.add((node, prop, Literal(getattr(text, lang), lang=lang)))
        for synonym in getattr(concept.synonyms, lang):
            graph.add((node, SKOS.altLabel, Literal(synonym, lang=lang)))
    for target in concept.broader:
        graph.add((node, SKOS.broader, _iri(target)))
    if concept.deprecated:
        graph.add((node, OWL.deprecated, Literal(True)))
    if concept.replaced_by is not None:
        graph.add((node, DCTERMS.isReplacedBy, _iri(concept.replaced_by)))
    for member, prop in OBJECT_PROPERTIES.items():
        value = getattr(concept, member)
        for target in (value,) if isinstance(value, str) else value or ():
            graph.add((node, prop, _iri(target)))
    for member, prop in DATA_PROPERTIES.items():
        if getattr(concept, member) is not None:
            graph.add((node, prop, Literal(getattr(concept, member))))
    if concept.cost is not None:
        graph.add((node, NG.cost, Literal(Decimal(repr(plain(concept.cost))))))
    data = concept.to_data()
    for member, prop in JSON_PROPERTIES.items():
        if member in data:
            graph.add((node, prop, _json(data[member])))


def to_graph(ontology: Ontology) -> Graph:
    """Return the ontology as an rdflib graph (see module doc for the vocabulary)."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in (
        ("ng", NG), ("ngc", NGC), ("ngs", NGS), ("skos", SKOS), ("owl", OWL),
        ("rdf", RDF), ("rdfs", RDFS), ("xsd", XSD), ("dcterms", DCTERMS),
    ):  # fmt: skip
        graph.bind(prefix, namespace)
    manifest = ontology.manifest
    scheme = NGS[quote(manifest.name, safe=_SAFE)]
    for type_ in (SKOS.ConceptScheme, OWL.Ontology):
        graph.add((scheme, RDF.type, type_))
    graph.add((scheme, DCTERMS.title, Literal(manifest.name)))
    graph.add((scheme, OWL.versionInfo, Literal(manifest.version)))
    graph.add((scheme, NG.defaultLanguage, Literal(manifest.default_language)))
    graph.add((scheme, NG.languages, _json(list(manifest.languages))))
    _vocabulary(graph)
    for concept in ontology:
        _add_concept(graph, scheme, concept)
    return graph


def dumps_turtle(ontology: Ontology) -> str:
    """Return the ontology as Turtle (deterministic: rdflib sorts subjects and objects)."""
    text: str = to_graph(ontology).serialize(format="turtle")
    return text


# -- reading ---------------------------------------------------------------------------------
def _literals(graph: Graph, node: URIRef, prop: URIRef) -> list[Literal]:
    return sorted(o for o in graph.objects(node, prop) if isinstance(o, Literal))


def _one(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def _by_lang(graph: Graph, node: URIRef, prop: URIRef, single: bool) -> dict[str, Any]:
    found: dict[str, list[str]] = {}
    for literal in _literals(graph, node, prop):
        found.setdefault(literal.language or "", []).append(str(literal))
    return {lang: _one(texts) if single else texts for lang, texts in found.items()}


def _read_concept(graph: Graph, node: URIRef, problems: list[Problem], where: Location) -> Any:
    concept_id = _id(node)
    data: dict[str, Any] = {"id": concept_id}
    kinds = sorted(str(t)[len(str(NG)) :] for t in graph.objects(node, RDF.type) if t in NG_KINDS)
    if kinds:
        data["kind"] = _one(kinds)
    for member, prop, single in (
        ("label", SKOS.prefLabel, True),
        ("synonyms", SKOS.altLabel, False),
        ("definition", SKOS.definition, True),
    ):
        if values := _by_lang(graph, node, prop, single):
            data[member] = values
    targets: dict[str, tuple[URIRef, Callable[[list[str]], Any]]] = {
        "broader": (SKOS.broader, list),
        "replaced_by": (DCTERMS.isReplacedBy, _one),
        **{m: (p, _one if m == "parent" else list) for m, p in OBJECT_PROPERTIES.items()},
    }
    for member, (prop, shape) in targets.items():
        if found := sorted(_id(o) for o in graph.objects(node, prop)):
            data[member] = shape(found)
    if deprecated := _literals(graph, node, OWL.deprecated):
        data["deprecated"] = _one([d.toPython() for d in deprecated])
    for member, prop in {**DATA_PROPERTIES, "cost": NG.cost}.items():
        if found_literals := _literals(graph, node, prop):
            data[member] = _one([str(v) for v in found_literals])
    for member, prop in JSON_PROPERTIES.items():
        for literal in _literals(graph, node, prop):
            try:
                data[member] = json.loads(str(literal))
            except json.JSONDecodeError as exc:
                problems.append(
                    Problem.at("invalid-value", where, concept_id, f"{member}: bad JSON: {exc}")
                )
    return data


NG_KINDS = frozenset(NG[kind] for kind in KINDS)


def _subjects(graph: Graph, type_: URIRef) -> list[URIRef]:
    found = {s for s in graph.subjects(RDF.type, type_) if isinstance(s, URIRef)}
    return sorted(found, key=str)


def read_turtle(path: str | Path) -> Ontology:
    """Read an ontology from Turtle written by :func:`dumps_turtle` (or edited in Protégé).

    Returns:
        The ontology; problems found while reading are in ``provenance.problems``.
    """
    shown = str(path)
    where = Location(shown)
    graph = Graph()
    problems: list[Problem] = []
    try:
        graph.parse(str(path), format="turtle")
    except Exception as exc:  # rdflib raises many unrelated types
        problems.append(Problem("turtle-syntax", shown, None, None, f"not valid Turtle: {exc}"))
    manifests: list[RawItem] = []
    for scheme in _subjects(graph, SKOS.ConceptScheme):
        raw: dict[str, Any] = {}
        for member, prop in (
            ("name", DCTERMS.title),
            ("version", OWL.versionInfo),
            ("default_language", NG.defaultLanguage),
        ):
            if values := _literals(graph, scheme, prop):
                raw[member] = _one([str(v) for v in values])
        if languages := _literals(graph, scheme, NG.languages):
            raw["languages"] = json.loads(str(languages[0]))
        manifests.append((raw, where))
    concepts: list[RawItem] = [
        (_read_concept(graph, node, problems, where), where)
        for node in _subjects(graph, SKOS.Concept)
    ]
    return build_ontology(manifests, concepts, root=shown, files=[shown], problems=problems)
