"""Readers: encodings (GBK/GB18030, UTF-8 with BOM), delimiters, Parquet, JSONL, malformed rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.ingest.encoding import detect_encoding, normalise_encoding, sniff_delimiter
from needgraph.ingest.errors import InputFormatError
from needgraph.ingest.readers import BadRow, SourceRow, open_source
from tests.ingest.conftest import (
    all_counts,
    ingest,
    tag_bins,
    write_csv,
    write_jsonl,
    write_yaml,
)

HEADER = ["客户编号", "在网时长", "宽带类型", "老年人"]
ROWS = [["C1", "5", "光纤", "是"], ["C2", "30", "DSL", "否"], ["C3", "12", "光纤", "否"]]
ZH_MAPPING = """
dataset: zh-test
customer_id: 客户编号
files:
  - path: "*"
    tags:
      columns: {在网时长: tag.tenure_months, 宽带类型: tag.internet_type, 老年人: tag.senior}
"""


def rows_of(path: Path, **kwargs: object) -> list[SourceRow | BadRow]:
    source = open_source(path, **kwargs)  # type: ignore[arg-type]
    try:
        return list(source.rows())
    finally:
        source.close()


def test_encoding_detection_prefers_gb18030() -> None:
    text = "客户编号,文本\nC1,晚上看视频一直卡，宽带老是掉线\n".encode("gbk")
    assert detect_encoding(text) == "gb18030"
    assert detect_encoding(b"\xef\xbb\xbfa,b\n1,2\n") == "utf-8-sig"
    assert detect_encoding("a,b\nä,中\n".encode()) == "utf-8-sig"
    assert normalise_encoding("GBK") == "gb18030"
    assert normalise_encoding("gb2312") == "gb18030"
    with pytest.raises(InputFormatError):
        normalise_encoding("no-such-codec")


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_sniffing(tmp_path: Path, delimiter: str) -> None:
    path = write_csv(tmp_path / "d.csv", ["id", "a", "b"], [["1", "x,y" if delimiter != "," else
                                                               "x", "2"], ["2", "z", "3"]],
                     delimiter=delimiter)
    source = open_source(path)
    assert source.delimiter == delimiter
    assert source.header == ["id", "a", "b"]
    got = list(source.rows())
    source.close()
    assert [r.number for r in got] == [2, 3]
    assert isinstance(got[0], SourceRow) and got[0].cells["b"] == "2"


def test_sniff_semicolon_with_commas_in_values() -> None:
    assert sniff_delimiter("a;b;c\n1,5;2;3\n4;5,5;6\n") == ";"


def test_gbk_file_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", HEADER, ROWS, encoding="gbk")
    got = rows_of(path)
    assert all(isinstance(r, SourceRow) for r in got)
    assert isinstance(got[0], SourceRow)
    assert got[0].cells == {"客户编号": "C1", "在网时长": "5", "宽带类型": "光纤", "老年人": "是"}


def test_utf8_bom_header_is_clean(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", HEADER, ROWS, encoding="utf-8-sig")
    source = open_source(path)
    assert source.header is not None and source.header[0] == "客户编号"
    source.close()


def test_malformed_csv_rows_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,a,b\n1,x,2\n2,too,many,fields\n3,y\n4,z,5\n", encoding="utf-8")
    got = rows_of(path)
    assert [(type(r).__name__, r.number) for r in got] == [
        ("SourceRow", 2), ("BadRow", 3), ("BadRow", 4), ("SourceRow", 5)]
    bad = got[1]
    assert isinstance(bad, BadRow) and "4 fields" in bad.reason and "header has 3" in bad.reason


def test_undecodable_bytes_are_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,a\n1,ok\n2,\xff\xfe\n3,fine\n")
    got = rows_of(path, encoding="utf-8")
    assert [type(r).__name__ for r in got] == ["SourceRow", "BadRow", "SourceRow"]


def test_resume_skips_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ["id", "v"], [[str(i), "x"] for i in range(10)])
    source = open_source(path)
    got = list(source.rows(after_row=6))
    source.close()
    assert [r.number for r in got] == [7, 8, 9, 10, 11]


def test_jsonl_rows_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "1", "v": 2}\n\nnot json\n[1, 2]\n{"id": "5"}\n', encoding="utf-8")
    got = rows_of(path)
    assert [(type(r).__name__, r.number) for r in got] == [
        ("SourceRow", 1), ("BadRow", 3), ("BadRow", 4), ("SourceRow", 5)]


def test_gzip_csv(tmp_path: Path) -> None:
    path = tmp_path / "z.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("id,v\n1,a\n2,b\n")
    assert [r.number for r in rows_of(path)] == [2, 3]


def test_parquet_rows_and_resume(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table({"id": [f"C{i}" for i in range(25)], "v": list(range(25))})
    path = tmp_path / "p.parquet"
    pq.write_table(table, path, row_group_size=10)
    assert [r.number for r in rows_of(path)] == list(range(1, 26))
    source = open_source(path)
    assert source.total_rows == 25
    rest = list(source.rows(after_row=13))
    assert [r.number for r in rest] == list(range(14, 26))
    assert isinstance(rest[0], SourceRow) and rest[0].cells == {"id": "C13", "v": 13}


def test_duplicate_header_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dup.csv", ["id", "a", "a"], [["1", "2", "3"]])
    with pytest.raises(InputFormatError, match="appears twice"):
        open_source(path)


# -- end to end on both stores ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "encoding", "delimiter"),
    [("gbk.csv", "gbk", ","), ("bom.csv", "utf-8-sig", ","), ("semi.csv", "utf-8", ";"),
     ("tab.tsv", "gb18030", "\t")],
)
def test_encodings_and_delimiters_end_to_end(onto_store: GraphStore, tmp_path: Path, name: str,
                                             encoding: str, delimiter: str) -> None:
    path = write_csv(tmp_path / name, HEADER, ROWS, encoding=encoding, delimiter=delimiter)
    mapping = write_yaml(tmp_path / "m.yaml", ZH_MAPPING)
    [report] = ingest(onto_store, path, tmp_path, mapping=mapping)
    assert report.status == "done" and report.rows_quarantined == 0
    assert report.delimiter == delimiter
    assert tag_bins(onto_store, "C1") == {"tag.tenure_months": "lt_12m",
                                          "tag.internet_type": "fiber", "tag.senior": "yes"}
    assert all_counts(onto_store)[1]["HAS_TAG"] == 9


def test_explicit_encoding_option(onto_store: GraphStore, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "gbk.csv", HEADER, ROWS, encoding="gbk")
    mapping = write_yaml(tmp_path / "m.yaml", ZH_MAPPING)
    [report] = ingest(onto_store, path, tmp_path, mapping=mapping, encoding="GBK")
    assert report.encoding == "gb18030" and report.rows_written == 3


def test_parquet_and_jsonl_end_to_end(onto_store: GraphStore, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"customer_id": ["P1", "P2"], "tenure_months": [3.0, 40.0],
                             "internet_type": ["DSL", None]}), tmp_path / "tags.parquet")
    write_jsonl(tmp_path / "tags.jsonl", [
        {"customer_id": "J1", "tenure_months": 15, "senior": True},
        {"customer_id": "J2", "tenure_months": "7", "senior": "No"},
    ])
    [rp] = ingest(onto_store, tmp_path / "tags.parquet", tmp_path)
    [rj] = ingest(onto_store, tmp_path / "tags.jsonl", tmp_path)
    assert (rp.format, rj.format) == ("parquet", "jsonl")
    assert tag_bins(onto_store, "P1") == {"tag.tenure_months": "lt_12m", "tag.internet_type": "dsl"}
    assert tag_bins(onto_store, "P2") == {"tag.tenure_months": "gte_12m"}
    assert tag_bins(onto_store, "J1") == {"tag.tenure_months": "gte_12m", "tag.senior": "yes"}
    assert tag_bins(onto_store, "J2") == {"tag.tenure_months": "lt_12m", "tag.senior": "no"}


def test_malformed_rows_are_quarantined_and_job_continues(onto_store: GraphStore,
                                                          tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "customer_id,tenure_months,internet_type\n"
        "B1,5,DSL\n"
        "B2,7,DSL,extra\n"
        "\"B3,9,DSL\n"  # unterminated quote swallows the rest of the file... so keep it last
        , encoding="utf-8")
    [report] = ingest(onto_store, path, tmp_path)
    assert report.status == "done"
    assert report.rows_written == 1 and report.rows_quarantined == 2
    from needgraph.ingest.quarantine import read_quarantine

    entries = read_quarantine(Path(report.quarantine_path))
    assert [(e["file"], e["row"]) for e in entries] == [("bad.csv", 3), ("bad.csv", 4)]
    assert all(e["reason"] and e["hint"] for e in entries)
    assert "4 fields" in entries[0]["reason"]
