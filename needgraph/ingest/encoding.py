"""Detect a text file's encoding and a CSV file's delimiter from a sample of its first bytes.

Encodings: a UTF-8 byte-order mark means ``utf-8-sig``; text that decodes as UTF-8 is UTF-8;
anything else is handed to charset-normalizer, and every Chinese guess (GBK, GB2312, HZ, or
GB18030 itself) becomes GB18030, the superset that decodes all of them. Explicit encodings are
normalised the same way (``gbk`` reads as ``gb18030``, ``utf-8`` strips a BOM when present).
"""

from __future__ import annotations

import codecs
import csv
import io
import logging

from needgraph.ingest.errors import InputFormatError

log = logging.getLogger(__name__)

SAMPLE_BYTES = 256 * 1024
_CHINESE = {"gbk", "gb2312", "gb18030", "hz", "euc_cn", "cp936", "big5", "big5hkscs", "cp950"}
_CANDIDATES = (",", ";", "\t", "|")


def normalise_encoding(name: str) -> str:
    """Return the codec to read ``name`` with (GBK family -> gb18030, UTF-8 -> utf-8-sig).

    Raises:
        InputFormatError: Python knows no codec of that name.
    """
    try:
        canonical = codecs.lookup(name).name
    except LookupError as exc:
        raise InputFormatError(
            f"unknown encoding {name!r}",
            hint="Use e.g. utf-8, gb18030 or gbk (in the mapping's `encoding:` or --encoding).",
        ) from exc
    if canonical in ("utf-8", "utf-8-sig"):
        return "utf-8-sig"
    if canonical in {"gbk", "gb2312", "gb18030", "hz", "euc_cn", "cp936"}:
        return "gb18030"
    return canonical


def _trim_partial(sample: bytes) -> bytes:
    """Cut the sample after its last newline so no multi-byte character is split."""
    cut = sample.rfind(b"\n")
    return sample[: cut + 1] if cut > 0 else sample


def detect_encoding(sample: bytes) -> str:
    """Return the codec a file whose first bytes are ``sample`` should be read with."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    body = _trim_partial(sample)
    try:
        body.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError:
        pass
    if _looks_chinese(body):
        return "gb18030"
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - charset-normalizer is in the nlp extra
        best_name = None
    else:
        best = from_bytes(body).best()
        best_name = best.encoding if best is not None else None
    if best_name is None or best_name.lower() in _CHINESE:
        try:
            body.decode("gb18030")
            return "gb18030"
        except UnicodeDecodeError:
            if best_name is None:
                return "utf-8-sig"
    return normalise_encoding(str(best_name))


def _looks_chinese(body: bytes) -> bool:
    """Whether ``body`` decodes as GB18030 into mostly CJK characters (a GBK-family file)."""
    try:
        text = body.decode("gb18030")
    except UnicodeDecodeError:
        return False
    wide = [c for c in text if ord(c) > 127]
    cjk = sum(1 for c in wide if "\u4e00" <= c <= "\u9fff" or "\u3000" <= c <= "\u303f"
              or "\uff00" <= c <= "\uffef")
    return len(wide) >= 4 and cjk >= 0.9 * len(wide)


def sniff_delimiter(text_sample: str, default: str = ",") -> str:
    r"""Return the delimiter (``, ; \t |``) that splits the sample's lines most consistently.

    Each candidate parses the first lines with :mod:`csv`; the winner gives the same number of
    fields (more than one) on the most lines, then the most fields.
    """
    lines = text_sample.splitlines()[:50]
    if len(lines) > 1 and not text_sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may end inside a line
    best, best_score = default, (0, 0)
    for candidate in _CANDIDATES:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=candidate))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(1 for row in rows if len(row) == width), width)
        if score > best_score:
            best, best_score = candidate, score
    return best
