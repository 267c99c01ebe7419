"""Write generated chunks in the operator export formats, plus the planted truth.

Files (all UTF-8, LF line ends, rows in customer order):

* ``customers_tags.csv`` - ``customer_id`` + one column per wide tag (operator codes); blank =
  no value. Snapshot time :data:`SNAPSHOT_TIME` (given in ``mapping.yaml``).
* ``tags_long.csv`` - ``customer_id, tag, value, time``: monthly series of the long tags; the
  latest month is the customer's current value.
* ``texts.jsonl`` - ``customer_id, time, channel, lang, text`` (raw, personal data unmasked).
* ``offers.csv`` - ``customer_id, strategy, time, outcome, satisfaction_after``.
* ``labels.csv`` - ``customer_id, domain, score, time``.
* ``truth.jsonl`` - one line per customer: true causes with effects and fixing strategies,
  propensity, eligible strategies, latent satisfaction, an unexplained drop (noise with no
  cause, for a few customers), what each text truly mentions.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from needgraph.ingest.generator.customers import Chunk
from needgraph.ingest.generator.naming import domain_code, strategy_code
from needgraph.ingest.generator.offers import Offer
from needgraph.ingest.generator.texts import Text
from needgraph.ingest.generator.world import WorldModel

SNAPSHOT = np.datetime64("2026-10-01T00:00:00", "s")
SNAPSHOT_TIME = "2026-09-30T00:00:00Z"
MONTHS = ("2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z", SNAPSHOT_TIME)
BINARY = ("customers_tags.csv", "tags_long.csv")
FILES = (
    "customers_tags.csv",
    "tags_long.csv",
    "texts.jsonl",
    "offers.csv",
    "labels.csv",
    "truth.jsonl",
)


def customer_id(index: int) -> str:
    """Return the id of the customer with global index ``index``."""
    return f"C{index:08d}"


def iso_times(offsets_s: np.ndarray) -> np.ndarray:
    """Return ISO-8601 UTC strings for offsets (seconds) from the snapshot."""
    stamps = SNAPSHOT + np.asarray(offsets_s, dtype=np.int64).astype("timedelta64[s]")
    return np.char.add(np.datetime_as_string(stamps, unit="s"), "Z")


def _numeric_array(values: np.ndarray, decimals: int) -> pa.Array:
    """Raw numeric values for CSV: integers, or text with ``decimals`` places; NaN is null.

    Values that are no whole number of ``10**-decimals`` (rare fallbacks that rounding would
    move across a bin edge) are written in full.
    """
    missing = np.isnan(values)
    filled = np.where(missing, 0.0, values)
    scale = 10**decimals
    scaled = np.rint(filled * scale)
    exact = np.abs(filled * scale - scaled) <= 1e-6 * np.maximum(1.0, np.abs(scaled))
    if decimals == 0 and exact.all():
        return pa.array(scaled.astype(np.int64), mask=missing)
    ints = np.abs(scaled).astype(np.int64)
    text = pc.cast(pa.array(ints // scale), pa.string())
    if decimals:
        fraction = pc.utf8_lpad(pc.cast(pa.array(ints % scale), pa.string()), decimals, "0")
        text = pc.binary_join_element_wise(text, fraction, ".")
    text = pc.if_else(pa.array(scaled < 0), pc.binary_join_element_wise("-", text, ""), text)
    if not exact.all():
        full = pc.cast(pa.array(filled[~exact]), pa.string())
        text = pc.replace_with_mask(text, pa.array(~exact), full)
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def _write_csv(table: pa.Table, handle: IO[bytes]) -> None:
    """Append ``table`` as CSV rows: no header, null as empty, quotes only where needed.

    When some value needs quotes, Arrow quotes every text cell of the chunk (still valid CSV).
    """
    sink = io.BytesIO()
    try:
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    except pa.ArrowInvalid:
        sink = io.BytesIO()
        pacsv.write_csv(table, sink, pacsv.WriteOptions(include_header=False))
    handle.write(sink.getvalue())


class DatasetWriter:
    """Appends chunks to the dataset files of ``out`` (created or truncated)."""

    def __init__(self, out: Path, world: WorldModel) -> None:
        self.out = out
        self.world = world
        out.mkdir(parents=True, exist_ok=True)
        self.handles: dict[str, IO[str]] = {
            name: (out / name).open("w", encoding="utf-8", newline="")
            for name in FILES
            if name not in BINARY
        }
        self.binary: dict[str, IO[bytes]] = {name: (out / name).open("wb") for name in BINARY}
        self.wide = [(j, t) for j, t in enumerate(world.tags) if t.layout == "wide"]
        self.long = [(j, t) for j, t in enumerate(world.tags) if t.layout == "long"]
        self.domain_codes = [domain_code(d) for d in world.domains]
        self.strategy_ids = [s.id for s in world.strategies]
        self.fixed_by = {
            c.id: [
                s.id
                for s in sorted(world.strategies, key=lambda s: -s.fix.get(c.id, 0.0))
                if s.fix.get(c.id, 0.0) >= 0.3
            ]
            for c in world.causes
        }
        self.counts = dict.fromkeys(("customers", "texts", "offers", "labels", "long_rows"), 0)
        self._header("customers_tags.csv", ["customer_id", *[t.column for _, t in self.wide]])
        self._header("tags_long.csv", ["customer_id", "tag", "value", "time"])
        self._header(
            "offers.csv", ["customer_id", "strategy", "time", "outcome", "satisfaction_after"]
        )
        self._header("labels.csv", ["customer_id", "domain", "score", "time"])

    def _header(self, name: str, columns: list[str]) -> None:
        if name in self.binary:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerow(columns)
            self.binary[name].write(buffer.getvalue().encode("utf-8"))
        else:
            csv.writer(self.handles[name], lineterminator="\n").writerow(columns)

    def close(self) -> None:
        """Flush and close every file."""
        for handle in self.handles.values():
            handle.close()
        for binary in self.binary.values():
            binary.close()

    def write(
        self, chunk: Chunk, offers: Sequence[Offer], texts: Sequence[tuple[int, int, Text]]
    ) -> None:
        """Append one chunk. ``texts`` holds ``(row, offset seconds, text)`` in row order."""
        ids = [customer_id(chunk.start + i) for i in range(chunk.size)]
        self._wide(chunk, ids)
        self._long(chunk, ids)
        self._labels(chunk, ids)
        self._offers(offers, ids)
        text_times = iso_times(np.array([t[1] for t in texts], dtype=np.int64))
        self._texts(texts, text_times, ids)
        self._truth(chunk, ids, texts, text_times)
        self.counts["customers"] += chunk.size

    def _wide(self, chunk: Chunk, ids: list[str]) -> None:
        columns: dict[str, pa.Array] = {"customer_id": pa.array(ids, type=pa.string())}
        for j, tag in self.wide:
            values = chunk.values[j]
            columns[tag.column] = (
                _numeric_array(values, tag.decimals)
                if tag.value_type == "numeric"
                else pa.array(values, type=pa.string())
            )
        _write_csv(pa.table(columns), self.binary["customers_tags.csv"])

    def _long(self, chunk: Chunk, ids: list[str]) -> None:
        if not self.long:
            return
        id_array = pa.array(ids, type=pa.string())
        parts = []
        order_keys = []
        for rank, (j, tag) in enumerate(self.long):
            for month, values in enumerate([*chunk.history[j], chunk.values[j]]):
                rows = np.flatnonzero(~np.isnan(values))
                text = pc.cast(_numeric_array(values[rows], tag.decimals), pa.string())
                parts.append(
                    pa.table(
                        {
                            "customer_id": id_array.take(pa.array(rows)),
                            "tag": pa.array([tag.column] * len(rows), type=pa.string()),
                            "value": text,
                            "time": pa.array([MONTHS[month]] * len(rows), type=pa.string()),
                        }
                    )
                )
                order_keys.append(rows * (3 * len(self.long)) + rank * 3 + month)
        table = pa.concat_tables(parts)
        table = table.take(pa.array(np.argsort(np.concatenate(order_keys), kind="stable")))
        _write_csv(table, self.binary["tags_long.csv"])
        self.counts["long_rows"] += table.num_rows

    def _labels(self, chunk: Chunk, ids: list[str]) -> None:
        rows, cols = np.nonzero(chunk.labelled)
        if not len(rows):
            return
        times = iso_times(chunk.label_offset[rows])
        writer = csv.writer(self.handles["labels.csv"], lineterminator="\n")
        codes = self.domain_codes
        writer.writerows(
            (ids[r], codes[c], int(chunk.scores[r, c]), t)
            for r, c, t in zip(rows.tolist(), cols.tolist(), times.tolist(), strict=True)
        )
        self.counts["labels"] += len(rows)

    def _offers(self, offers: Sequence[Offer], ids: list[str]) -> None:
        times = iso_times(np.array([o.offset_s for o in offers], dtype=np.int64)).tolist()
        writer = csv.writer(self.handles["offers.csv"], lineterminator="\n")
        writer.writerows(
            (
                ids[o.row],
                strategy_code(o.strategy),
                t,
                o.outcome,
                "" if o.satisfaction_after is None else o.satisfaction_after,
            )
            for o, t in zip(offers, times, strict=True)
        )
        self.counts["offers"] += len(offers)

    def _texts(
        self, texts: Sequence[tuple[int, int, Text]], times: np.ndarray, ids: list[str]
    ) -> None:
        handle = self.handles["texts.jsonl"]
        for (row, _, text), when in zip(texts, times.tolist(), strict=True):
            handle.write(
                json.dumps(
                    {
                        "customer_id": ids[row],
                        "time": when,
                        "channel": text.channel,
                        "lang": text.lang,
                        "text": text.text,
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        self.counts["texts"] += len(texts)

    def _truth(
        self,
        chunk: Chunk,
        ids: list[str],
        texts: Sequence[tuple[int, int, Text]],
        times: np.ndarray,
    ) -> None:
        world, handle = self.world, self.handles["truth.jsonl"]
        by_row: dict[int, list[dict[str, Any]]] = {}
        for (row, _, text), when in zip(texts, times.tolist(), strict=True):
            by_row.setdefault(row, []).append(
                {
                    "time": when,
                    "channel": text.channel,
                    "lang": text.lang,
                    "mentions": [list(m) for m in text.mentions],
                    "pii": text.pii,
                }
            )
        cause_rows = chunk.causes
        eligible = chunk.eligible
        latent = np.round(chunk.latent, 3).tolist()
        propensity = np.round(chunk.propensity, 4).tolist()
        for i, cid in enumerate(ids):
            causes = [world.causes[c] for c in np.flatnonzero(cause_rows[i])]
            line = {
                "customer_id": cid,
                "causes": [
                    {"cause": c.id, "effects": c.effects, "fixed_by": self.fixed_by[c.id]}
                    for c in causes
                ],
                "propensity": propensity[i],
                "eligible": [self.strategy_ids[s] for s in np.flatnonzero(eligible[i])],
                "satisfaction": dict(zip(world.domains, latent[i], strict=True)),
                "unexplained": None
                if chunk.shock[i] < 0
                else {
                    "domain": world.domains[chunk.shock[i]],
                    "effect": float(chunk.shock_size[i]),
                },
                "labelled": bool(chunk.labelled[i].any()),
                "texts": by_row.get(i, []),
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
