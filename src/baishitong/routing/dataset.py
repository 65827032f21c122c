"""Labelled-ticket spreadsheets (CSV or XLSX) → texts and labels for training."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

from openpyxl import load_workbook

Row = dict[str, str]


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("无法识别文件编码，请另存为 UTF-8 编码的 CSV")


def _xlsx_rows(data: bytes) -> list[Row]:
    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
    except (zipfile.BadZipFile, KeyError, OSError, IndexError) as exc:
        raise ValueError("无法读取 Excel 文件：文件已损坏或不是 .xlsx 格式，请另存为 .xlsx 或 CSV") from exc
    rows = sheet.iter_rows(values_only=True)
    header = next(rows, None)
    if header is None:
        return []
    names = ["" if h is None else str(h).strip() for h in header]
    return [
        {n: "" if v is None else str(v) for n, v in zip(names, values) if n}
        for values in rows
        if any(v is not None and str(v).strip() for v in values)
    ]


def read_rows(source: str | Path | bytes, *, filename: str | None = None) -> list[Row]:
    """Rows as header → cell text; `filename` tells the format when `source` is uploaded bytes."""
    if isinstance(source, bytes):
        data, name = source, filename or ""
    else:
        try:
            data, name = Path(source).read_bytes(), filename or str(source)
        except OSError as exc:
            raise ValueError(f"无法读取文件 {source}：{exc.strerror or exc}") from exc
    if name.lower().endswith((".xlsx", ".xlsm")) or data[:2] == b"PK":
        return _xlsx_rows(data)
    reader = csv.DictReader(io.StringIO(_decode(data)))
    try:
        reader.fieldnames = [f.strip() for f in reader.fieldnames or []]
        return [{k: v or "" for k, v in row.items() if k is not None} for row in reader]
    except csv.Error as exc:
        # A cell past csv's 131072-character limit (no work order is that long) or a NUL byte: not a CSV of orders.
        raise ValueError(f"CSV 文件第 {reader.line_num + 1} 行无法读取：内容过长或含有空字符，请检查文件是否为工单表格") from exc


def columns(rows: Sequence[Row]) -> list[str]:
    return list(rows[0]) if rows else []


def require_columns(rows: Sequence[Row], names: Sequence[str]) -> None:
    available = columns(rows)
    missing = [n for n in names if n not in available]
    if missing:
        raise ValueError(f"缺少列：{'、'.join(missing)}（现有列：{'、'.join(available) or '无'}）")


def pick_text(row: Row, text_columns: Sequence[str]) -> str:
    """Joins non-empty cells with "。" so subject and detail stay separate sentences."""
    return "。".join(v for c in text_columns if (v := (row.get(c) or "").strip()))


def labelled(rows: Sequence[Row], text_columns: Sequence[str], label_column: str) -> tuple[list[str], list[str]]:
    """Texts and labels, skipping rows whose text or label is empty."""
    if not rows:
        raise ValueError("文件中没有数据行")
    require_columns(rows, [*text_columns, label_column])
    texts: list[str] = []
    labels: list[str] = []
    for row in rows:
        text, label = pick_text(row, text_columns), (row.get(label_column) or "").strip()
        if text and label:
            texts.append(text)
            labels.append(label)
    return texts, labels


def load_labelled(
    source: str | Path | bytes, text_columns: Sequence[str], label_column: str, *, filename: str | None = None
) -> tuple[list[str], list[str]]:
    return labelled(read_rows(source, filename=filename), text_columns, label_column)
