"""Every Cypher statement needgraph sends, as named constants and builders.

Values always travel as parameters. Labels and relationship types cannot be parameters in
Cypher 5, so builders take them only after :class:`~needgraph.graph.schema.GraphSchema` has checked
them against the allow-list, and quote them with backticks (:func:`ident`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from needgraph.graph.records import PathStep

META_LABEL = "NeedgraphMeta"
_SAFE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def ident(name: str) -> str:
    """Backtick-quote a schema-checked label or type; refuse anything else."""
    if not _SAFE.match(name):
        raise ValueError(f"not a plain identifier: {name!r}")
    return f"`{name}`"


PING = "RETURN 1 AS ok"
META_CONSTRAINT = (
    f"CREATE CONSTRAINT needgraph_meta_name IF NOT EXISTS "
    f"FOR (m:{META_LABEL}) REQUIRE m.name IS UNIQUE"
)
SET_META = f"MERGE (m:{META_LABEL} {{name: $name}}) SET m.value = $value"
SET_META_ROWS = (
    f"UNWIND $rows AS row MERGE (m:{META_LABEL} {{name: row.name}}) SET m.value = row.value"
)
GET_META = f"MATCH (m:{META_LABEL} {{name: $name}}) RETURN m.value AS value"
AWAIT_INDEXES = "CALL db.awaitIndexes(300)"
CLEAR_BATCHED = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"


@lru_cache(maxsize=256)
def key_constraint(label: str) -> str:
    """Uniqueness constraint on ``key`` for one label (also creates the backing index)."""
    return (
        f"CREATE CONSTRAINT {label.lower()}_key IF NOT EXISTS "
        f"FOR (n:{ident(label)}) REQUIRE n.key IS UNIQUE"
    )


@lru_cache(maxsize=256)
def upsert_nodes(label: str) -> str:
    """``$rows``: list of ``{key, props}``."""
    return f"UNWIND $rows AS row MERGE (n:{ident(label)} {{key: row.key}}) SET n += row.props"


@lru_cache(maxsize=1024)
def upsert_relationships(rel_type: str, start_label: str, end_label: str) -> str:
    """``$rows``: list of ``{start, end, props}``; returns the number of rows that matched."""
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{ident(start_label)} {{key: row.start}}) "
        f"MATCH (b:{ident(end_label)} {{key: row.end}}) "
        f"MERGE (a)-[r:{ident(rel_type)}]->(b) SET r += row.props "
        f"RETURN count(*) AS written"
    )


@lru_cache(maxsize=256)
def missing_keys(label: str) -> str:
    """``$keys``: keys to look for; returns the ones with no node."""
    return (
        f"UNWIND $keys AS k OPTIONAL MATCH (n:{ident(label)} {{key: k}}) "
        f"WITH k, n WHERE n IS NULL RETURN k AS key"
    )


@lru_cache(maxsize=256)
def delete_node(label: str) -> str:
    """``$key``; returns how many nodes were deleted (0 or 1)."""
    return f"MATCH (n:{ident(label)} {{key: $key}}) DETACH DELETE n RETURN count(*) AS deleted"


@lru_cache(maxsize=256)
def get_nodes(label: str) -> str:
    """``$keys``; returns key and properties of the nodes that exist."""
    return (
        f"UNWIND $keys AS k MATCH (n:{ident(label)} {{key: k}}) "
        f"RETURN n.key AS key, properties(n) AS props"
    )


@lru_cache(maxsize=256)
def get_relationships(start_label: str, rel_type: str, end_label: str) -> str:
    """``$key``, ``$keys``; returns end key and properties of the relationships that exist."""
    return (
        f"MATCH (s:{ident(start_label)} {{key: $key}}) UNWIND $keys AS k "
        f"MATCH (s)-[r:{ident(rel_type)}]->(e:{ident(end_label)} {{key: k}}) "
        f"RETURN e.key AS key, properties(r) AS props"
    )


@lru_cache(maxsize=1024)
def relink(label_a: str, label_b: str, rel_type: str, outgoing: bool) -> str:
    """Move ``rel_type`` relationships of ``(a {key:$source})`` onto ``(b {key:$target})``.

    The target's existing properties win; the source's fill the gaps. Returns the count moved.
    """
    a, b, t = ident(label_a), ident(label_b), ident(rel_type)
    if outgoing:
        match, merge = f"(s)-[r:{t}]->(o)", f"(d)-[n:{t}]->(o)"
    else:
        match, merge = f"(o)-[r:{t}]->(s)", f"(o)-[n:{t}]->(d)"
    return (
        f"MATCH (s:{a} {{key: $source}}) MATCH (d:{b} {{key: $target}}) "
        f"MATCH {match} WHERE o <> d "
        f"MERGE {merge} "
        f"WITH r, n, properties(n) AS kept SET n += properties(r) SET n += kept "
        f"DELETE r RETURN count(*) AS moved"
    )


@lru_cache(maxsize=256)
def expand(label: str, direction: str) -> str:
    """One BFS hop from ``$keys`` of ``label``, filtered by ``$types``/``$labels``; ``$limit``."""
    pattern = {"out": "(n)-[r]->(m)", "in": "(n)<-[r]-(m)"}.get(direction, "(n)-[r]-(m)")
    return (
        f"UNWIND $keys AS k MATCH (n:{ident(label)} {{key: k}}) MATCH {pattern} "
        f"WHERE ($types IS NULL OR type(r) IN $types) "
        f"AND ($labels IS NULL OR any(l IN labels(m) WHERE l IN $labels)) "
        f"AND NOT m:{META_LABEL} "
        f"RETURN n.key AS here, type(r) AS type, startNode(r) = n AS outgoing, "
        f"properties(r) AS rprops, labels(m) AS labels, m.key AS key, properties(m) AS props "
        f"LIMIT $limit"
    )


def outgoing(label: str) -> str:
    """Relationships of ``$types`` leaving ``$keys`` of ``label``; props of ``$with_props`` ends."""
    return (
        f"UNWIND $keys AS k MATCH (n:{ident(label)} {{key: k}})-[r]->(m) "
        "WHERE type(r) IN $types "
        "RETURN k AS here, type(r) AS type, properties(r) AS rprops, labels(m) AS labels, "
        "m.key AS key, CASE WHEN any(l IN labels(m) WHERE l IN $with_props) "
        "THEN properties(m) END AS props"
    )


def path_pattern(start_label: str, steps: tuple[PathStep, ...], with_end: bool) -> str:
    """A MATCH for a typed walk from ``$start`` (to ``$end_key`` of ``$end_label``)."""
    parts = [f"MATCH p = (n0:{ident(start_label)} {{key: $start}})"]
    for i, step in enumerate(steps, start=1):
        rel = f"[:{ident(step.type)}]"
        arrow = {"out": f"-{rel}->", "in": f"<-{rel}-"}.get(step.direction, f"-{rel}-")
        parts.append(f"{arrow}(n{i})")
    last = f"n{len(steps)}"
    where = f" WHERE {last}.key = $end_key AND $end_label IN labels({last})" if with_end else ""
    return "".join(parts) + where + " RETURN p LIMIT $limit"


@lru_cache(maxsize=256)
def count_label(label: str) -> str:
    """Node count of one label (answered from the count store)."""
    return f"MATCH (n:{ident(label)}) RETURN count(n) AS n"


@lru_cache(maxsize=256)
def count_type(rel_type: str) -> str:
    """Relationship count of one type (answered from the count store)."""
    return f"MATCH ()-[r:{ident(rel_type)}]->() RETURN count(r) AS n"


@lru_cache(maxsize=256)
def page_nodes(label: str) -> str:
    """Keyset page of nodes: ``$after`` (exclusive key, '' for the first), ``$limit``."""
    return (
        f"MATCH (n:{ident(label)}) WHERE n.key > $after "
        f"RETURN n.key AS key, properties(n) AS props ORDER BY n.key LIMIT $limit"
    )


@lru_cache(maxsize=256)
def page_keys(label: str) -> str:
    """Keyset page of node keys only: ``$after`` (exclusive key, '' for the first), ``$limit``."""
    return (
        f"MATCH (n:{ident(label)}) WHERE n.key > $after "
        f"RETURN n.key AS key ORDER BY n.key LIMIT $limit"
    )


@lru_cache(maxsize=1024)
def relationship_columns(
    rel_type: str, start_label: str, end_label: str, props: tuple[str, ...]
) -> str:
    """``$keys``: start keys; per start node, ``[end key, *props]`` of each relationship.

    Lists keep ``null`` members, so a missing property stays in its place.
    """
    fields = ", ".join(["b.key", *(f"r.{ident(p)}" for p in props)])
    return (
        f"UNWIND $keys AS k MATCH (a:{ident(start_label)} {{key: k}})"
        f"-[r:{ident(rel_type)}]->(b:{ident(end_label)}) "
        f"RETURN k AS start, collect([{fields}]) AS rels"
    )


@lru_cache(maxsize=1024)
def page_relationships(rel_type: str, start_label: str) -> str:
    """Relationships of ``rel_type`` from the next ``$limit`` start nodes after ``$after``."""
    return (
        f"MATCH (a:{ident(start_label)}) WHERE a.key > $after "
        f"WITH a ORDER BY a.key LIMIT $limit "
        f"MATCH (a)-[r:{ident(rel_type)}]->(b) "
        f"RETURN a.key AS start, labels(b) AS labels, b.key AS end, properties(r) AS props"
    )


# -- write_batch: latest-wins relationships (needgraph.graph.batch) ------------------------------
# Rows carry ``start``/``end`` keys, ``props``, ``group`` (end-key prefix) and ``t`` (the
# new ``observed_at``, '' when absent: a missing time is the oldest, and '' sorts first).


@lru_cache(maxsize=256)
def starts_having(rel_type: str, start_label: str) -> str:
    """``$keys``: start keys; returns those whose node has a ``rel_type`` relationship out."""
    return (
        f"UNWIND $keys AS k MATCH (a:{ident(start_label)} {{key: k}}) "
        f"WHERE EXISTS {{ (a)-[:{ident(rel_type)}]->() }} RETURN k AS key"
    )


@lru_cache(maxsize=1024)
def create_relationships(rel_type: str, start_label: str, end_label: str) -> str:
    """``$rows``: ``{start, ends: [key], props: [map]}``; returns the number of edges written.

    Only for start nodes with no ``rel_type`` relationship yet and each end at most once per
    start: nothing can exist, so CREATE replaces MERGE (about twice as fast). Ends and their
    properties travel as two lists per start node (no map per edge).
    """
    return (
        f"UNWIND $rows AS row MATCH (a:{ident(start_label)} {{key: row.start}}) "
        f"UNWIND range(0, size(row.ends) - 1) AS i "
        f"MATCH (b:{ident(end_label)} {{key: row.ends[i]}}) "
        f"CREATE (a)-[r:{ident(rel_type)}]->(b) SET r = row.props[i] "
        f"RETURN count(*) AS written"
    )


@lru_cache(maxsize=1024)
def upsert_latest_in_group(rel_type: str, start_label: str, end_label: str) -> str:
    """``$rows``: ``{start, end, group, t, props}``; upserts unless the group holds a newer one.

    A row that wins deletes the group's other relationships, then MERGEs its own. Returns the
    number of rows whose endpoints exist (written or not).
    """
    s, e, t = ident(start_label), ident(end_label), ident(rel_type)
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{s} {{key: row.start}}) MATCH (b:{e} {{key: row.end}}) "
        f"OPTIONAL MATCH (a)-[o:{t}]->(x:{e}) "
        f"WHERE x.key STARTS WITH row.group AND coalesce(o.observed_at, '') > row.t "
        f"WITH a, b, row, count(o) AS newer "
        f"CALL (a, b, row, newer) {{ WITH * WHERE newer = 0 "
        f"  CALL (a, b, row) {{ MATCH (a)-[old:{t}]->(y:{e}) "
        f"    WHERE y.key STARTS WITH row.group AND y <> b DELETE old }} "
        f"  MERGE (a)-[r:{t}]->(b) SET r += row.props }} "
        f"RETURN count(*) AS written"
    )


@lru_cache(maxsize=1024)
def upsert_latest(rel_type: str, start_label: str, end_label: str) -> str:
    """``$rows``: ``{start, end, t, props}``; upserts unless the relationship is newer.

    Returns the number of rows whose endpoints exist (written or not).
    """
    return (
        f"UNWIND $rows AS row "
        f"MATCH (a:{ident(start_label)} {{key: row.start}}) "
        f"MATCH (b:{ident(end_label)} {{key: row.end}}) "
        f"MERGE (a)-[r:{ident(rel_type)}]->(b) "
        f"WITH r, row, (r.observed_at IS NULL OR row.t >= r.observed_at) AS newer "
        f"CALL (r, row, newer) {{ WITH * WHERE newer SET r += row.props }} "
        f"RETURN count(*) AS written"
    )
