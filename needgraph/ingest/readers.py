"""Streaming readers for CSV, Parquet and JSONL: rows come out one by one, never a whole file.

Each reader yields :class:`SourceRow` (a row number and its cells) or :class:`BadRow` (a row that
cannot be read: wrong number of fields, invalid JSON, bytes the encoding cannot decode). Row
numbers are 1-based and stable: a CSV header is row 1 (so the first data row is 2), a JSONL row
is its line number, a Parquet row its record number. ``rows(after_row=n)`` skips rows up to and
including ``n``, which is how a resumed job continues after its last committed batch.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from needgraph.ingest.encoding import (
    SAMPLE_BYTES,
    detect_encoding,
    normalise_encoding,
    sniff_delimiter,
)
from needgraph.ingest.errors import InputFormatError
from needgraph.ingest.mapping import FileFormat
from needgraph.ingest.privacy import mask_value

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))

_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}
_REPLACEMENT = "\ufffd"


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One readable row: its 1-based number and its cells by column name."""

    number: int
    cells: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be read as a record (quarantined whole).

    Attributes:
        number: 1-based row number.
        reason: What is wrong.
        hint: How to fix it.
        value: The raw row, masked and shortened.
    """

    number: int
    reason: str
    hint: str
    value: str


def detect_format(path: Path) -> FileFormat:
    """Return the format of ``path`` from its suffix (``.gz`` looked through).

    Raises:
        InputFormatError: The suffix is unknown.
    """
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    found = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise InputFormatError(
            f"cannot tell the format of {path.name} from its suffix",
            hint="Use .csv/.tsv, .parquet or .jsonl, or set `format:` for the file in the mapping.",
        )
    return found


def _open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """Return ``(stream to read, raw file whose position measures progress)``."""
    raw: IO[bytes] = path.open("rb")
    if path.suffix.lower() == ".gz":
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
        return stream, raw
    return raw, raw


class Source(ABC):
    """A readable input file.

    Attributes:
        path: The file.
        format: ``csv``, ``parquet`` or ``jsonl``.
        encoding: Codec used (``None`` for Parquet).
        delimiter: CSV delimiter (``None`` otherwise).
        header: Column names when the format has a header (CSV, Parquet).
        total_bytes: Size of the file on disk (progress unit for text formats).
        total_rows: Number of rows when known without reading (Parquet).
    """

    format: FileFormat
    encoding: str | None = None
    delimiter: str | None = None
    header: list[str] | None = None
    total_rows: int | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        self.total_bytes = path.stat().st_size

    @abstractmethod
    def rows(self, after_row: int = 0) -> Iterator[SourceRow | BadRow]:
        """Yield rows whose number is above ``after_row``."""

    @abstractmethod
    def position(self) -> int:
        """Progress so far: bytes of the file read (rows for Parquet)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release the file."""


class CsvSource(Source):
    """A delimited text file with a header row.

    Args:
        path: The file (``.gz`` is decompressed on the fly).
        encoding: Codec; detected from the first bytes when ``None``.
        delimiter: Delimiter; sniffed from the first lines when ``None``.
    """

    format: FileFormat = "csv"

    def __init__(
        self, path: Path, encoding: str | None = None, delimiter: str | None = None
    ) -> None:
        super().__init__(path)
        self._stream, self._raw = _open_binary(path)
        sample = self._stream.read(SAMPLE_BYTES)
        self._stream.seek(0)
        self.encoding = normalise_encoding(encoding) if encoding else detect_encoding(sample)
        if delimiter is None:
            text = sample.decode(self.encoding, errors="replace")
            default = "\t" if ".tsv" in [s.lower() for s in path.suffixes] else ","
            delimiter = sniff_delimiter(text, default)
        self.delimiter = delimiter
        self._text = io.TextIOWrapper(self._stream, encoding=self.encoding, errors="replace",
                                      newline="")
        self._reader = csv.reader(self._text, delimiter=delimiter)
        try:
            first = next(self._reader)
        except StopIteration:
            raise InputFormatError(
                f"{path.name} is empty", hint=f"Give a CSV file with a header row: {path}"
            ) from None
        except csv.Error as exc:
            raise InputFormatError(f"{path.name}: cannot read the header row: {exc}") from exc
        header = [name.strip().lstrip("\ufeff") for name in first]
        _check_header(header, path)
        self.header = header
        self._started = False

    def rows(self, after_row: int = 0) -> Iterator[SourceRow | BadRow]:
        """Yield data rows (row 2 onwards) after ``after_row``."""
        if self._started:
            raise InputFormatError(f"{self.path.name} can be read once per job")
        self._started = True
        header = self.header or []
        width = len(header)
        number = 1
        while True:
            try:
                fields = next(self._reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                if number > after_row:
                    yield BadRow(number, f"unreadable CSV row: {exc}",
                                 "Fix the quoting of this row (a quote inside a field is "
                                 "doubled: \"\")", "")
                continue
            number += 1
            if number <= after_row or not fields:
                continue
            if len(fields) != width:
                yield BadRow(
                    number,
                    f"row has {len(fields)} fields, the header has {width}",
                    f"Fix row {number} of {self.path.name}: quote fields that contain "
                    f"{self.delimiter!r}, or remove the extra delimiter",
                    mask_value(self.delimiter.join(fields) if self.delimiter else fields),
                )
                continue
            if any(_REPLACEMENT in f for f in fields):
                yield BadRow(
                    number,
                    f"bytes that are not valid {self.encoding}",
                    f"Give the file's real encoding (mapping `encoding:` or --encoding); "
                    f"row {number} of {self.path.name} does not decode as {self.encoding}",
                    mask_value(self.delimiter.join(fields) if self.delimiter else fields),
                )
                continue
            yield SourceRow(number, dict(zip(header, fields, strict=True)))

    def position(self) -> int:
        """Bytes of the file read so far."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        """Close the file."""
        self._text.close()
        self._raw.close()


class JsonlSource(Source):
    """One JSON object per line.

    Args:
        path: The file (``.gz`` is decompressed on the fly).
        encoding: Codec; detected from the first bytes when ``None``.
    """

    format: FileFormat = "jsonl"

    def __init__(self, path: Path, encoding: str | None = None) -> None:
        super().__init__(path)
        self._stream, self._raw = _open_binary(path)
        sample = self._stream.read(SAMPLE_BYTES)
        self._stream.seek(0)
        self.encoding = normalise_encoding(encoding) if encoding else detect_encoding(sample)
        self._codec = self.encoding

    def rows(self, after_row: int = 0) -> Iterator[SourceRow | BadRow]:
        """Yield one row per non-blank line after ``after_row``."""
        for number, line in enumerate(self._stream, start=1):
            if number <= after_row:
                continue
            text = line.decode(self._codec, errors="replace")
            if number == 1:
                text = text.lstrip("\ufeff")
            if not text.strip():
                continue
            if _REPLACEMENT in text:
                yield BadRow(number, f"bytes that are not valid {self.encoding}",
                             "Give the file's real encoding (mapping `encoding:` or --encoding)",
                             mask_value(text.strip()))
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield BadRow(number, f"invalid JSON: {exc.msg} at column {exc.colno}",
                             f"Fix line {number} of {self.path.name}: one JSON object per line",
                             mask_value(text.strip()))
                continue
            if not isinstance(data, dict):
                yield BadRow(number, f"a JSON {type(data).__name__}, not an object",
                             f"Line {number} of {self.path.name} must be a JSON object",
                             mask_value(text.strip()))
                continue
            yield SourceRow(number, {str(k): v for k, v in data.items()})

    def position(self) -> int:
        """Bytes of the file read so far."""
        try:
            return self._raw.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        """Close the file."""
        self._stream.close()
        self._raw.close()


class ParquetSource(Source):
    """A Parquet file, read one record batch at a time.

    Args:
        path: The file.
        batch_rows: Records decoded per step.
    """

    format: FileFormat = "parquet"

    def __init__(self, path: Path, batch_rows: int = 10_000) -> None:
        super().__init__(path)
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:  # pragma: no cover - pyarrow is in the data extra
            raise InputFormatError(
                "reading Parquet needs pyarrow", hint="pip install 'needgraph[data]'"
            ) from exc
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError family
            raise InputFormatError(f"{path.name} is not a readable Parquet file: {exc}") from exc
        self.header = [str(name) for name in self._file.schema_arrow.names]
        _check_header(self.header, path)
        self.total_rows = int(self._file.metadata.num_rows)
        self._batch_rows = batch_rows
        self._done = 0

    def rows(self, after_row: int = 0) -> Iterator[SourceRow | BadRow]:
        """Yield records after ``after_row``, skipping whole row groups where possible."""
        meta = self._file.metadata
        first_group, offset = 0, 0
        while first_group < meta.num_row_groups:
            size = meta.row_group(first_group).num_rows
            if offset + size > after_row:
                break
            offset += size
            first_group += 1
        self._done = offset
        groups = list(range(first_group, meta.num_row_groups))
        if not groups:
            return
        number = offset
        for batch in self._file.iter_batches(batch_size=self._batch_rows, row_groups=groups):
            for record in batch.to_pylist():
                number += 1
                self._done = number
                if number > after_row:
                    yield SourceRow(number, record)

    def position(self) -> int:
        """Records read so far."""
        return self._done


def _check_header(header: list[str], path: Path) -> None:
    seen: set[str] = set()
    for name in header:
        if name in seen and name:
            raise InputFormatError(
                f"{path.name}: column {name!r} appears twice in the header",
                hint="Rename one of the two columns; each column name must be unique.",
            )
        seen.add(name)


def open_source(
    path: Path,
    fmt: FileFormat | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Source:
    """Open ``path`` with the reader of its format.

    Args:
        path: The input file.
        fmt: Format; from the suffix when ``None``.
        encoding: Text encoding; detected when ``None``.
        delimiter: CSV delimiter; sniffed when ``None``.

    Raises:
        InputFormatError: The file is missing, empty or not of a known format.
    """
    if not path.is_file():
        raise InputFormatError(f"input file {path} does not exist",
                               hint="Check the PATH argument or the mapping's `path:`.")
    kind = fmt or detect_format(path)
    if kind == "parquet":
        return ParquetSource(path)
    if kind == "jsonl":
        return JsonlSource(path, encoding)
    return CsvSource(path, encoding, delimiter)
