"""Read a ``multipart/form-data`` body that was spooled to disk: text fields and files.

The service avoids an extra dependency for uploads: the body is streamed to a file (the body
limit applies while streaming), then parsed through a read-only memory map, so a large upload
is never held in memory. Headers of each part are parsed with the standard library's e-mail
parser. Anything malformed raises :class:`InvalidInputError` (422) naming ``body``.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import HTTP
from pathlib import Path

from needgraph.api.errors import InvalidInputError

MAX_PARTS = 16
MAX_FIELD_BYTES = 64 * 1024
MAX_HEADER_BYTES = 16 * 1024
_COPY_CHUNK = 1 << 20
_BOUNDARY = re.compile(r"^[0-9A-Za-z'()+_,./:=?-]{1,70}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class UploadedFile:
    """A file part written to disk.

    Attributes:
        field: The form field name.
        filename: The sanitised file name (basename; only ``A-Za-z0-9._-``).
        path: Where it was written.
        size: Its size in bytes.
    """

    field: str
    filename: str
    path: Path
    size: int


@dataclass
class Form:
    """The parts of a form: text fields by name, files by name."""

    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, UploadedFile] = field(default_factory=dict)


def _bad(message: str) -> InvalidInputError:
    return InvalidInputError(
        "body",
        message,
        hint="Send multipart/form-data with a `file` part (e.g. curl -F file=@data.csv).",
    )


def boundary_of(content_type: str | None) -> bytes:
    """Return the boundary of a ``multipart/form-data`` content type.

    Raises:
        InvalidInputError: Another content type, or no usable boundary.
    """
    message = Message()
    message["content-type"] = content_type or ""
    if message.get_content_type() != "multipart/form-data":
        raise _bad(f"content type must be multipart/form-data, got {content_type or 'none'!r}")
    boundary = message.get_param("boundary")
    if not isinstance(boundary, str) or not _BOUNDARY.match(boundary):
        raise _bad("multipart/form-data needs a boundary of 1-70 usual characters")
    return boundary.encode("ascii")


def safe_filename(name: str | None, default: str = "upload") -> str:
    """Return the basename of ``name`` with unusual characters replaced (never empty)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._")[:120]
    return cleaned or default


def parse_form(body: Path, boundary: bytes, out_dir: Path) -> Form:
    """Parse the multipart body in ``body``; write file parts into ``out_dir``.

    Args:
        body: The spooled request body.
        boundary: The boundary from the content type.
        out_dir: Folder for the file parts: each goes to ``<out_dir>/<field>/<file name>``, so
            the uploaded file keeps its name (ingest mappings match files by name).

    Raises:
        InvalidInputError: The body is not well-formed multipart/form-data, a text field is
            not UTF-8 or longer than 64 KiB, a field repeats, or there are too many parts.
    """
    form = Form()
    delimiter = b"--" + boundary
    size = body.stat().st_size
    if size == 0:
        raise _bad("the body is empty")
    with body.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = mm.find(delimiter)
        if start < 0:
            raise _bad("the boundary does not occur in the body")
        pos = start + len(delimiter)
        parts = 0
        while True:
            if mm[pos : pos + 2] == b"--":
                return form
            if mm[pos : pos + 2] != b"\r\n":
                raise _bad("a boundary line is not followed by CRLF")
            pos += 2
            header_end = mm.find(b"\r\n\r\n", pos, pos + MAX_HEADER_BYTES)
            if header_end < 0:
                raise _bad("a part's headers do not end (or exceed 16 KiB)")
            headers = BytesHeaderParser(policy=HTTP).parsebytes(mm[pos:header_end] + b"\r\n\r\n")
            data_start = header_end + 4
            data_end = mm.find(b"\r\n" + delimiter, data_start)
            if data_end < 0:
                raise _bad("the closing boundary is missing")
            pos = data_end + 2 + len(delimiter)
            parts += 1
            if parts > MAX_PARTS:
                raise _bad(f"more than {MAX_PARTS} parts")
            _take_part(form, headers, mm, data_start, data_end, out_dir)


def _take_part(
    form: Form, headers: Message, mm: mmap.mmap, start: int, end: int, out_dir: Path
) -> None:
    if headers.get_content_disposition() != "form-data":
        raise _bad("every part needs Content-Disposition: form-data")
    name = headers.get_param("name", header="content-disposition")
    if not isinstance(name, str) or not name:
        raise _bad("a part has no field name")
    if name in form.fields or name in form.files:
        raise _bad(f"field {name!r} occurs twice")
    filename = headers.get_filename()
    if filename is None:
        if end - start > MAX_FIELD_BYTES:
            raise _bad(f"text field {name!r} is longer than {MAX_FIELD_BYTES} bytes")
        try:
            form.fields[name] = bytes(mm[start:end]).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad(f"text field {name!r} is not UTF-8") from None
        return
    folder = out_dir / safe_filename(name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe_filename(filename)
    with target.open("wb") as out:
        for offset in range(start, end, _COPY_CHUNK):
            out.write(mm[offset : min(offset + _COPY_CHUNK, end)])
    form.files[name] = UploadedFile(name, safe_filename(filename), target, end - start)
