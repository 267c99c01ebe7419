"""Generate a whole synthetic dataset: world model, then customers chunk by chunk.

Each chunk has its own random streams (``SeedSequence(seed).spawn``), so a dataset is
byte-identical for the same seed, ontology, size and chunk size, and memory stays flat whatever
the number of customers.
"""

from __future__ import annotations

import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from needgraph.ingest.generator.build import build_world
from needgraph.ingest.generator.customers import ChunkSimulator
from needgraph.ingest.generator.errors import GeneratorError
from needgraph.ingest.generator.naming import write_mapping
from needgraph.ingest.generator.offers import OfferModel
from needgraph.ingest.generator.texts import Text, TextComposer
from needgraph.ingest.generator.world import WorldModel
from needgraph.ingest.generator.writers import SNAPSHOT_TIME, DatasetWriter
from needgraph.ontology.core import Ontology
from needgraph.ontology.files import read_ontology

DEFAULT_CHUNK = 50_000
TEXT_WINDOW_S = 90 * 86_400
GENERATOR_VERSION = 1


@dataclass
class Summary:
    """What a generation run wrote."""

    out: Path
    customers: int
    seed: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_data(self) -> dict[str, object]:
        """Return the summary as plain data (for ``--json`` output)."""
        return {
            "out": str(self.out),
            "customers": self.customers,
            "seed": self.seed,
            "counts": self.counts,
            "seconds": round(self.seconds, 2),
        }


def _texts_for_chunk(
    composer: TextComposer,
    world: WorldModel,
    chunk_causes: np.ndarray,
    zh: np.ndarray,
    n_texts: np.ndarray,
    rnd: random.Random,
) -> list[tuple[int, int, Text]]:
    out: list[tuple[int, int, Text]] = []
    ids = [c.id for c in world.causes]
    for row in np.flatnonzero(n_texts).tolist():
        causes = [ids[c] for c in np.flatnonzero(chunk_causes[row])]
        texts = composer.customer_texts(rnd, causes, int(n_texts[row]), "zh" if zh[row] else "en")
        offsets = sorted(-int(rnd.random() * TEXT_WINDOW_S) - 1 for _ in texts)
        out.extend((row, off, text) for off, text in zip(offsets, texts, strict=True))
    return out


def generate_dataset(
    out: str | Path,
    customers: int,
    seed: int,
    *,
    label_rate: float = 0.8,
    ontology: Ontology | str | Path | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    progress: bool | None = None,
) -> Summary:
    """Write a synthetic operator dataset with planted truth into ``out``.

    Args:
        out: Output folder (created; existing dataset files are overwritten).
        customers: Number of customers.
        seed: Random seed; the same seed gives byte-identical files.
        label_rate: Share of customers whose survey scores are published in ``labels.csv``.
        ontology: An ontology, a path to one, or ``None`` for the default ontology.
        chunk_size: Customers simulated (and held in memory) at once.
        progress: Show a progress bar; ``None``: only when stderr is a terminal.

    Returns:
        Counts of what was written and the wall time.

    Raises:
        GeneratorError: Bad arguments, or an ontology without causes affecting a domain.
    """
    if customers < 0 or chunk_size < 1 or not 0.0 <= label_rate <= 1.0:
        raise GeneratorError(
            f"bad arguments: customers={customers}, chunk_size={chunk_size}, "
            f"label_rate={label_rate}",
            hint="Use customers >= 0, chunk_size >= 1 and 0 <= label_rate <= 1.",
        )
    started = time.perf_counter()
    onto = ontology if isinstance(ontology, Ontology) else read_ontology(ontology)
    folder = Path(out)
    world = build_world(onto, seed)
    if not world.causes or not world.domains:
        raise GeneratorError(
            f"ontology {onto.manifest.name} has no cause that affects a domain",
            hint="The generator plants Cause concepts with `affects: [domain.x]`; add some.",
        )
    simulator = ChunkSimulator(world, label_rate)
    composer = TextComposer(world, onto)
    offer_model = OfferModel(world)
    writer = DatasetWriter(folder, world)
    n_chunks = -(-customers // chunk_size)
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=customers, unit="cust", disable=not show, desc="generate")
    try:
        for k, seq in enumerate(np.random.SeedSequence(seed).spawn(n_chunks)):
            start = k * chunk_size
            sim_seq, text_seq, offer_seq = seq.spawn(3)
            chunk = simulator.simulate(start, min(chunk_size, customers - start), sim_seq)
            text_seed, offer_seed = (int(s.generate_state(1)[0]) for s in (text_seq, offer_seq))
            texts = _texts_for_chunk(
                composer, world, chunk.causes, chunk.zh, chunk.n_texts, random.Random(text_seed)
            )
            offers = offer_model.draw(chunk, random.Random(offer_seed))
            writer.write(chunk, offers, texts)
            bar.update(chunk.size)
    finally:
        bar.close()
        writer.close()
    model = world.to_data()
    model["dataset"] = {
        "generator_version": GENERATOR_VERSION,
        "customers": customers,
        "label_rate": label_rate,
        "chunk_size": chunk_size,
        "snapshot_time": SNAPSHOT_TIME,
        "counts": writer.counts,
    }
    (folder / "truth_model.json").write_text(
        json.dumps(model, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    write_mapping(folder / "mapping.yaml", world, f"synthetic-{seed}-{customers}", SNAPSHOT_TIME)
    return Summary(folder, customers, seed, dict(writer.counts), time.perf_counter() - started)
