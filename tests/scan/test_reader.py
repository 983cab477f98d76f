"""Archive reading: formats, field guessing, malformed records with their line numbers."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nli_check.errors import NLICheckError
from nli_check.scan.reader import (
    FieldMap,
    Malformed,
    Record,
    archive_fingerprint,
    parse_date,
    read_archive,
)


def _jsonl(path, lines: list[bytes]) -> None:
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_jsonl_guesses_fields_and_reports_malformed_lines(tmp_path):
    path = tmp_path / "news.jsonl"
    _jsonl(
        path,
        [
            json.dumps(
                {
                    "article_id": "x1",
                    "body": "Rates rose.",
                    "publisher": "Ledger",
                    "published_at": "2024-03-01T10:00:00Z",
                }
            ).encode(),
            b'{"article_id": "x2", "body": "broken',
            json.dumps({"article_id": "x3", "publisher": "Ledger"}).encode(),
            b"",
            '{"article_id": "x4", "body": "caf\xe9"}'.encode("latin-1"),
            json.dumps(
                {"article_id": "x5", "body": "Rates fell.", "published_at": "not a date"}
            ).encode(),
            json.dumps(["not", "an", "object"]).encode(),
            json.dumps({"body": "No id here.", "published_at": 1709290800}).encode(),
        ],
    )
    items = list(read_archive([path]))
    records = [i for i in items if isinstance(i, Record)]
    bad = [i for i in items if isinstance(i, Malformed)]
    assert [(r.id, r.source, r.date) for r in records] == [
        ("x1", "Ledger", "2024-03-01"),
        ("news:8", None, "2024-03-01"),
    ]
    assert records[0].day == 19783
    assert [(m.line, m.reason.split(" ")[0]) for m in bad] == [
        (2, "bad"),
        (3, "missing"),
        (5, "not"),
        (6, "date"),
        (7, "a"),
    ]
    assert bad[0].describe().startswith("news.jsonl line 2: bad JSON")


def test_explicit_fields_and_missing_field_error(tmp_path):
    path = tmp_path / "a.jsonl"
    _jsonl(
        path,
        [json.dumps({"key": "k1", "story": "A.", "outlet": "S", "when": "2024-01-02"}).encode()],
    )
    [record] = read_archive([path], FieldMap(id="key", text="story", source="outlet", date="when"))
    assert (record.id, record.text, record.source, record.date) == ("k1", "A.", "S", "2024-01-02")
    with pytest.raises(NLICheckError, match="no field 'headline'.*--text-field"):
        list(read_archive([path], FieldMap(text="headline")))
    _jsonl(path, [json.dumps({"a": 1, "b": 2}).encode()])
    with pytest.raises(NLICheckError, match="pass --text-field"):
        list(read_archive([path]))


def test_csv_rows_multiline_fields_and_bad_bytes(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(
        b"id,text,source,date\n"
        b'1,"First line.\nSecond line.",Wire,2024-05-01\n'
        b"2,only three,Wire\n"
        b"3,caf\xe9 au lait,Wire,2024-05-02\n"
        b"4,Fine text.,Post,May 3 2024\n"
        b'5,Fine again.,Post,"May 3, 2024"\n'
    )
    items = list(read_archive([path]))
    records = [i for i in items if isinstance(i, Record)]
    bad = [i for i in items if isinstance(i, Malformed)]
    assert [r.id for r in records] == ["1", "5"]
    assert records[0].text == "First line.\nSecond line."
    assert records[1].date == "2024-05-03"
    # Lines are physical lines of the file (the first record spans lines 2-3).
    assert [(m.line, m.reason.split(" ")[0]) for m in bad] == [(4, "3"), (5, "text"), (6, "date")]


def test_parquet_and_limit(tmp_path):
    path = tmp_path / "a.parquet"
    pq.write_table(
        pa.table(
            {"id": ["a", "b", "c"], "content": ["One.", None, "Three."], "site": ["S1", "S2", "S3"]}
        ),
        path,
    )
    items = list(read_archive([path]))
    assert [getattr(i, "id", None) for i in items] == ["a", None, "c"]
    assert items[1] == Malformed("a.parquet", 2, "missing text field 'content'")
    assert [i.id for i in read_archive([path], limit=1) if isinstance(i, Record)] == ["a"]


def test_directory_of_text_files(tmp_path):
    (tmp_path / "wire").mkdir()
    (tmp_path / "wire" / "b.txt").write_text("Bee.", encoding="utf-8")
    (tmp_path / "a.txt").write_text("Ay.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    items = list(read_archive([tmp_path]))
    assert [(i.id, i.source) for i in items if isinstance(i, Record)] == [
        ("a.txt", None),
        ("wire/b.txt", "wire"),
    ]
    assert [i.file for i in items if isinstance(i, Malformed)] == ["bad.txt"]


def test_fingerprint_follows_content(tmp_path):
    path = tmp_path / "a.jsonl"
    _jsonl(path, [b'{"text": "One."}'])
    first = archive_fingerprint([path])
    assert archive_fingerprint([path]) == first
    _jsonl(path, [b'{"text": "Two."}'])
    assert archive_fingerprint([path]) != first


def test_unknown_and_missing_archives(tmp_path):
    with pytest.raises(NLICheckError, match="does not exist"):
        list(read_archive([tmp_path / "nope.jsonl"]))
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(NLICheckError, match="unknown archive format"):
        list(read_archive([tmp_path / "x.xml"]))
    with pytest.raises(NLICheckError, match="stdin"):
        list(read_archive(["-"]))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-02-29", "2024-02-29"),
        ("2024-02-29T23:00:00+00:00", "2024-02-29"),
        ("Thu, 29 Feb 2024 10:00:00 GMT", "2024-02-29"),
        ("29 February 2024", "2024-02-29"),
        (1709200800, "2024-02-29"),
        ("yesterday", None),
    ],
)
def test_parse_date(value, expected):
    parsed = parse_date(value)
    assert (parsed.isoformat() if parsed else None) == expected
