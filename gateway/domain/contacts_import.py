"""Bulk contact import (``POST /api/v1/orgs/{org}/contacts:import``): the request into rows. Pure.

Two shapes, both at most :data:`MAX_ROWS` contacts:

- JSON ``{"contacts": [{"id": ..., <the fields of PUT .../contacts/{id}>}, ...]}``;
- CSV (``text/csv``, UTF-8 with or without a byte order mark), a header line naming some of
  :data:`CSV_COLUMNS` (``id`` required, any order); ``email`` and ``phone`` may hold several
  values separated by ``;``; ``marketing`` is ``true|false|yes|no|1|0``; an empty cell leaves
  the stored value as it is (like a key absent from a PUT body).

Rows are numbered from 1 (the first contact; in CSV the first line after the header). A row that
cannot even be read (no id, a bad cell) becomes an error row here; the rest is validated by
:func:`gateway.domain.tenancy.merge_contact`, one row at a time, so a bad row never stops the others.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from gateway.domain.errors import BadRequest
from gateway.domain.tenancy import RECORD_ID

MAX_ROWS = 10_000
CSV_COLUMNS = ("id", "kind", "name", "company", "email", "phone", "owner", "marketing")
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


@dataclass(frozen=True)
class ImportRow:
    row: int
    id: str | None
    body: dict[str, Any]
    error: tuple[str, str] | None = None  # (reason code, detail) when the row cannot be read


def _id_of(value: Any) -> str | None:
    return value if isinstance(value, str) and RECORD_ID.fullmatch(value) else None


def _bad_id(row: int, value: Any) -> ImportRow:
    shown = value if isinstance(value, str) else None
    return ImportRow(row, shown, {}, ("invalid_id", f"'id' must match {RECORD_ID.pattern}"))


def _too_many(n: int) -> BadRequest:
    return BadRequest(f"an import holds at most {MAX_ROWS} contacts, got {n}", code="too_many_contacts")


def parse_json(body: Any) -> list[ImportRow]:
    """``{"contacts": [...]}`` into rows; a body of any other shape is 400."""
    if not isinstance(body, dict) or set(body) != {"contacts"} or not isinstance(body["contacts"], list):
        raise BadRequest('body must be {"contacts": [...]}', code="invalid_body")
    items = body["contacts"]
    if len(items) > MAX_ROWS:
        raise _too_many(len(items))
    rows = []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(ImportRow(n, None, {}, ("invalid_body", "each contact must be a JSON object")))
            continue
        cid = _id_of(item.get("id"))
        if cid is None:
            rows.append(_bad_id(n, item.get("id")))
            continue
        rows.append(ImportRow(n, cid, {k: v for k, v in item.items() if k != "id"}))
    return rows


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")  # a leading BOM (spreadsheet exports) is dropped
    except UnicodeDecodeError as exc:
        raise BadRequest(f"CSV must be UTF-8: {exc.reason} at byte {exc.start}", code="invalid_csv") from None


def _marketing(cell: str) -> bool:
    value = cell.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("'marketing' must be true or false (yes/no, 1/0)")


def _csv_body(cells: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for column, cell in cells.items():
        if column == "id" or cell.strip() == "":
            continue
        if column == "email":
            body["emails"] = [e.strip() for e in cell.split(";") if e.strip()]
        elif column == "phone":
            body["phones"] = [p.strip() for p in cell.split(";") if p.strip()]
        elif column == "marketing":
            body["marketing"] = _marketing(cell)
        else:
            body[column] = cell.strip()
    return body


def parse_csv(raw: bytes) -> list[ImportRow]:
    """CSV text into rows; an unreadable file, a missing ``id`` column or an unknown column is 400."""
    reader = csv.reader(io.StringIO(_decode(raw), newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        if "id" not in header:
            raise BadRequest(f"the CSV header must name an 'id' column (columns: {', '.join(CSV_COLUMNS)})",
                             code="invalid_csv")  # fmt: skip
        unknown = sorted(set(header) - set(CSV_COLUMNS))
        if unknown or len(set(header)) != len(header):
            what = f"unknown column(s): {', '.join(unknown)}" if unknown else "a column is named twice"
            raise BadRequest(f"CSV {what}; columns are {', '.join(CSV_COLUMNS)}", code="invalid_csv")
        rows: list[ImportRow] = []
        for n, cells in enumerate(reader, start=1):
            if not any(c.strip() for c in cells):
                continue  # a blank line (e.g. the file's last) is no contact
            if len(rows) >= MAX_ROWS:
                raise _too_many(len(rows) + 1)
            rows.append(_csv_row(n, header, cells))
    except csv.Error as exc:
        raise BadRequest(f"CSV cannot be read: {exc}", code="invalid_csv") from None
    return rows


def _csv_row(n: int, header: list[str], cells: list[str]) -> ImportRow:
    if len(cells) != len(header):
        return ImportRow(n, None, {}, ("invalid_row", f"{len(cells)} cells for {len(header)} columns"))
    named = dict(zip(header, cells, strict=True))
    cid = _id_of(named["id"].strip())
    if cid is None:
        return _bad_id(n, named["id"])
    try:
        return ImportRow(n, cid, _csv_body(named))
    except ValueError as exc:
        return ImportRow(n, cid, {}, ("invalid_field", str(exc)))
