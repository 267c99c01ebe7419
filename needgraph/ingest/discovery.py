"""Plan an ingest: which files, with which file spec and which record kinds.

``PATH`` is a file or a folder. A folder's ``mapping.yaml`` is used unless ``--mapping`` names
another. Without any mapping, the generator's file names (``customers_tags.csv``,
``tags_long.csv``, ``texts.jsonl``, ``offers.csv``, ``labels.csv``) and conventional column
names give the layout (:func:`auto_spec`); a single file's kind is given (``--kind``) or
recognised from its columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from needgraph.ingest.errors import InputFormatError, MappingError
from needgraph.ingest.mapping import (
    ColumnRef,
    FileSpec,
    Kind,
    LabelSpec,
    LongTags,
    Mapping,
    StrategySpec,
    TagsSpec,
    TextSpec,
)
from needgraph.ingest.mapping_io import MappingDocument, load_mapping
from needgraph.ingest.readers import BadRow, open_source
from needgraph.ontology.core import Ontology

FOLDER_MAPPING = "mapping.yaml"
GENERATOR_FILES: dict[str, Kind] = {
    "customers_tags.csv": "tags",
    "tags_long.csv": "tags",
    "texts.jsonl": "text",
    "offers.csv": "strategies",
    "labels.csv": "labels",
}
CUSTOMER_COLUMNS = ("customer_id", "customer", "cust_id", "customerID", "Customer ID", "user_id")
TIME_COLUMNS = ("observed_at", "time", "timestamp", "date", "ts")
TEXT_COLUMNS = ("text", "content", "utterance", "message")


@dataclass(frozen=True)
class JobPlan:
    """One file to ingest.

    Attributes:
        path: The input file.
        doc: The mapping (read from a file, or built from conventions).
        index: Position of the file's spec in ``doc.mapping.files``.
        kinds: Record kinds to ingest from it.
    """

    path: Path
    doc: MappingDocument
    index: int
    kinds: tuple[Kind, ...]

    @property
    def spec(self) -> FileSpec:
        """The file spec with the mapping's defaults filled in."""
        return self.doc.mapping.resolved(self.doc.mapping.files[self.index])


def _first(candidates: tuple[str, ...], columns: list[str]) -> str | None:
    lowered = {c.lower(): c for c in columns}
    for name in candidates:
        if name in columns:
            return name
        if name.lower() in lowered:
            return lowered[name.lower()]
    return None


def read_columns(path: Path, encoding: str | None = None) -> list[str]:
    """Return a file's column names (JSONL: the keys of its first object)."""
    source = open_source(path, encoding=encoding)
    try:
        if source.header is not None:
            return list(source.header)
        for row in source.rows():
            if not isinstance(row, BadRow):
                return list(row.cells)
        return []
    finally:
        source.close()


def recognise_kind(columns: list[str]) -> Kind:
    """Return the record kind a file's columns suggest."""
    names = {c.lower() for c in columns}
    if _first(TEXT_COLUMNS, columns):
        return "text"
    if names & {"strategy", "strategy_id"}:
        return "strategies"
    if "score" in names:
        return "labels"
    return "tags"


def auto_spec(path: Path, columns: list[str], kind: Kind | None, ontology: Ontology) -> FileSpec:
    """Build a file spec from conventional column names.

    Raises:
        MappingError: No customer id column, or (wide tags) columns that are no tag.
    """
    customer = _first(CUSTOMER_COLUMNS, columns)
    if customer is None:
        raise MappingError(
            f"{path.name}: no customer id column (looked for {', '.join(CUSTOMER_COLUMNS)})",
            hint="Write a mapping (--mapping FILE, see docs/ingest.md) naming `customer_id:`.",
        )
    kind = kind or recognise_kind(columns)
    time = _first(TIME_COLUMNS, columns)
    names = {c.lower(): c for c in columns}
    base: dict[str, object] = {"path": path.name, "customer_id": customer, "time": time}
    if kind == "text":
        text_col = _first(TEXT_COLUMNS, columns) or "text"
        lang = _first(("lang", "language"), columns)
        channel = _first(("channel",), columns)
        base["text"] = [TextSpec(column=text_col,
                                 channel=ColumnRef(column=channel) if channel else "unknown",
                                 lang=ColumnRef(column=lang) if lang else None)]
    elif kind == "strategies":
        outcome = _first(("outcome",), columns)
        base["strategies"] = [StrategySpec(
            strategy=_first(("strategy", "strategy_id"), columns) or "strategy",
            outcome=ColumnRef(column=outcome) if outcome else "offered",
            satisfaction_after=_first(("satisfaction_after",), columns),
            offer_id=_first(("offer_id",), columns))]
    elif kind == "labels":
        domain = _first(("domain", "domain_id"), columns)
        label_domain: str | ColumnRef = ColumnRef(column=domain) if domain else "domain.overall"
        base["labels"] = [LabelSpec(score=names.get("score", "score"), domain=label_domain)]
    elif {"tag", "value"} <= set(names) or {"tag_id", "value"} <= set(names):
        base["tags"] = TagsSpec(long=LongTags(tag=names.get("tag") or names["tag_id"],
                                              value=names["value"], time=time))
        base["time"] = None
    else:
        base["tags"] = _wide_tags(path, columns, customer, time, ontology)
        base["time"] = None
    return FileSpec.model_validate(base)


def _wide_tags(path: Path, columns: list[str], customer: str, time: str | None,
               ontology: Ontology) -> TagsSpec:
    mapped: dict[str, str] = {}
    unknown: list[str] = []
    for column in columns:
        if column in (customer, time) or not column:
            continue
        for candidate in (column, f"tag.{column}"):
            concept = ontology.get(candidate)
            if concept is not None and concept.kind == "Tag" and concept.bins:
                mapped[column] = candidate
                break
        else:
            unknown.append(column)
    if unknown:
        raise MappingError(
            f"{path.name}: column(s) that are no tag of the ontology: {', '.join(unknown[:20])}",
            hint="Name columns by tag id (tag.x or x), or write a mapping that maps or ignores "
            "them (docs/ingest.md).",
        )
    if not mapped:
        raise MappingError(f"{path.name}: no tag columns found",
                           hint="Give --kind, or a mapping (docs/ingest.md).")
    return TagsSpec(columns=dict(mapped), time=time)


def _auto_document(files: list[tuple[Path, Kind | None]], dataset: str, ontology: Ontology,
                   encoding: str | None) -> tuple[MappingDocument, list[Path]]:
    specs = []
    paths = []
    for path, kind in files:
        specs.append(auto_spec(path, read_columns(path, encoding), kind, ontology))
        paths.append(path)
    mapping = Mapping(dataset=dataset, files=specs, encoding=encoding)
    return MappingDocument(mapping), paths


def plan_ingest(
    path: Path,
    ontology: Ontology,
    *,
    mapping: Path | None = None,
    kind: Kind | None = None,
    encoding: str | None = None,
) -> list[JobPlan]:
    """Return the jobs that ingest ``path``.

    Args:
        path: A file, or a folder of files.
        ontology: The ontology the store holds (for conventional wide tag columns).
        mapping: A mapping file; a folder's ``mapping.yaml`` when ``None``.
        kind: Only this record kind (a file without mapping: its kind).
        encoding: Encoding for every file (overrides the mapping's).

    Raises:
        InputFormatError: The path does not exist, or a folder holds nothing to ingest.
        MappingError: The mapping does not describe the file.
    """
    if not path.exists():
        raise InputFormatError(f"{path} does not exist", hint="Give a file or a folder to ingest.")
    folder = path if path.is_dir() else None
    if mapping is None and folder is not None and (folder / FOLDER_MAPPING).is_file():
        mapping = folder / FOLDER_MAPPING
    if mapping is not None:
        doc = load_mapping(mapping)
        if encoding:
            doc.mapping = doc.mapping.model_copy(update={"encoding": encoding, "files": [
                f.model_copy(update={"encoding": encoding}) for f in doc.mapping.files]})
        return _plan_from_mapping(path, folder, doc, kind)
    if folder is None:
        doc, paths = _auto_document([(path, kind)], path.stem, ontology, encoding)
        return _jobs_for(doc, list(enumerate(paths)), kind)
    found: list[tuple[Path, Kind | None]] = [
        (folder / name, k) for name, k in GENERATOR_FILES.items() if (folder / name).is_file()]
    if kind is not None:
        found = [(p, k) for p, k in found if k == kind]
    if not found:
        raise InputFormatError(
            f"{folder} holds neither {FOLDER_MAPPING} nor any of "
            f"{', '.join(GENERATOR_FILES)}", hint="Give --mapping FILE, or a single file.")
    doc, paths = _auto_document(found, folder.name, ontology, encoding)
    return _jobs_for(doc, list(enumerate(paths)), kind)


def _plan_from_mapping(path: Path, folder: Path | None, doc: MappingDocument,
                       kind: Kind | None) -> list[JobPlan]:
    mapping = doc.mapping
    if folder is None:
        found = mapping.find_file(path.name)
        if found is None and len(mapping.files) == 1:
            found = (0, mapping.files[0])
        if found is None:
            raise MappingError(
                f"the mapping has no file entry matching {path.name}",
                hint="File entries (path:) are: "
                + ", ".join(f.path for f in mapping.files),
            )
        return _jobs_for(doc, [(found[0], path)], kind)
    pairs: list[tuple[int, Path]] = []
    taken: set[Path] = set()
    for index, spec in enumerate(mapping.files):
        for match in sorted(p for p in folder.glob(spec.path) if p.is_file()):
            if match.name == FOLDER_MAPPING or match in taken:
                continue  # one entry per file: the first that matches it
            taken.add(match)
            pairs.append((index, match))
    if not pairs:
        raise InputFormatError(
            f"no file in {folder} matches the mapping's entries "
            f"({', '.join(f.path for f in mapping.files)})",
            hint="Check the `path:` of each file entry (relative to the folder).",
        )
    return _jobs_for(doc, pairs, kind)


def _jobs_for(doc: MappingDocument, pairs: list[tuple[int, Path]],
              kind: Kind | None) -> list[JobPlan]:
    plans = []
    for index, path in pairs:
        kinds = doc.mapping.files[index].kinds()
        if kind is not None:
            kinds = tuple(k for k in kinds if k == kind)
        if kinds:
            plans.append(JobPlan(path, doc, index, kinds))
    return plans
