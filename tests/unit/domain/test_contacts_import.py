"""Unit tests for gateway.domain.contacts_import: CSV (with and without BOM) and JSON rows."""

from __future__ import annotations

import pytest

from gateway.domain.contacts_import import MAX_ROWS, ImportRow, parse_csv, parse_json
from gateway.domain.errors import BadRequest

CSV = "id,kind,name,company,email,phone,owner,marketing\r\n" \
      "c1,lead,山田 太郎,大阪商事,yamada@example.jp;t.yamada@example.jp,090-1234-5678,u1,true\r\n" \
      "c2,,,,,,,no\r\n"  # fmt: skip


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_csv_rows_with_or_without_bom(bom: str) -> None:
    rows = parse_csv((bom + CSV).encode())
    assert rows == [
        ImportRow(
            1,
            "c1",
            {
                "kind": "lead",
                "name": "山田 太郎",
                "company": "大阪商事",
                "emails": ["yamada@example.jp", "t.yamada@example.jp"],
                "phones": ["090-1234-5678"],
                "owner": "u1",
                "marketing": True,
            },
        ),
        ImportRow(2, "c2", {"marketing": False}),
    ]


def test_csv_bad_rows_are_rows_not_failures() -> None:
    raw = b"name,id,marketing\nA,ok,1\nB,bad id,1\nC,c3,maybe\nD,c4\n\n"
    rows = parse_csv(raw)
    assert [(r.row, r.id, r.error[0] if r.error else None) for r in rows] == [
        (1, "ok", None),
        (2, "bad id", "invalid_id"),
        (3, "c3", "invalid_field"),
        (4, None, "invalid_row"),
    ]


@pytest.mark.parametrize(
    "raw",
    [b"name,email\nx,y\n", b"id,colour\n1,red\n", b"id,id\n1,2\n", "id\n\udcff".encode("utf-8", "surrogatepass")],
)
def test_csv_unreadable_file_is_400(raw: bytes) -> None:
    with pytest.raises(BadRequest) as info:
        parse_csv(raw)
    assert info.value.code == "invalid_csv"


def test_csv_row_limit() -> None:
    raw = ("id\n" + "".join(f"c{i}\n" for i in range(MAX_ROWS + 1))).encode()
    with pytest.raises(BadRequest) as info:
        parse_csv(raw)
    assert info.value.code == "too_many_contacts"


def test_json_rows() -> None:
    rows = parse_json({"contacts": [{"id": "c1", "name": "鈴木"}, {"name": "no id"}, "x"]})
    assert rows[0] == ImportRow(1, "c1", {"name": "鈴木"})
    assert rows[1].error is not None and rows[1].error[0] == "invalid_id"
    assert rows[2].error is not None and rows[2].error[0] == "invalid_body"
    bads: list[object] = [[], {"contacts": {}}, {"contacts": [], "x": 1}, {"contacts": [{}] * (MAX_ROWS + 1)}]
    for bad in bads:
        with pytest.raises(BadRequest):
            parse_json(bad)
