"""Reading the tables people have: .xlsx, .xls (Excel 97-2003) and .csv in UTF-8 or GBK.

A file is recognised by its content, not its name, and refused with a Chinese message when
the two disagree or it cannot be read. The header is found among the first rows (a title row
or merged cells above it are skipped) by matching known column names, with case, spaces and
full-width/half-width forms ignored (NFKC). Rows are then yielded one at a time.

Workbooks are read with python-calamine (Rust; many times faster than openpyxl, see
bench/RESULTS.md). It holds the sheet's cells in its own memory; the Python rows are made
one by one, so the importer's memory grows with one chunk of rows, not with the file.
CSV text is decoded by trying UTF-8 (with or without BOM) and then GB18030: UTF-8 is strict,
so GBK text almost never decodes as UTF-8 by accident, while GB18030 (a superset of GBK and
GB2312) accepts nearly any byte string and so must come last. A statistical guess
(chardet) is slower and is wrong on short Chinese texts more often than this rule.
"""

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import python_calamine

from workflows.core.errors import InvalidInput

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and also an encrypted .xlsx
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls")
SUFFIXES = (*WORKBOOK_SUFFIXES, ".csv")
HEADER_SCAN_ROWS = 20
ENCODINGS = ("utf-8-sig", "gb18030")
_SPACES = re.compile(r"\s+")


def size_text(size: int) -> str:
    """A size in words: "50 MB", "64 KB"."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.3g} MB"
    return f"{size / 1024:.3g} KB"


def refuse(message: str, code: str = "bad_file") -> InvalidInput:
    return InvalidInput.single("file", code, message)


def header_key(text: Any) -> str:
    """A header cell as compared: NFKC (full-width letters, digits, brackets), no spaces,
    no required-marks, case-folded. "金额（万元）" and "金额(万元)" are the same key."""
    if text is None:
        return ""
    key = unicodedata.normalize("NFKC", str(text))
    return _SPACES.sub("", key).strip("*＊").casefold()


@dataclass
class Table:
    """An opened file: its format, the encoding of a CSV, the header row and the data rows."""

    format: str  # xlsx | xls | csv
    encoding: str | None
    header: list[str]
    header_row: int  # 1-based, as Excel numbers rows
    total_rows: int  # data rows below the header, empty rows included
    _rows: Iterator[list[Any]] = field(repr=False)

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as Excel shows it, cells) of every non-empty data row."""
        number = self.header_row
        for cells in self._rows:
            number += 1
            # Counted in C: a row of only empty cells is skipped.
            if cells.count(None) + cells.count("") < len(cells):
                yield number, cells


def sniff(data: bytes, file_name: str) -> str:
    """xlsx, xls or csv from the content; refuses a file that is not what its name says."""
    name = file_name.lower()
    suffix = next((s for s in SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        raise refuse(f"不支持的文件类型：{file_name}（只接受 .xlsx、.xls、.csv）", "bad_type")
    if not data:
        raise refuse("文件是空的", "empty_file")
    if data.startswith(XLSX_MAGIC):
        content = "xlsx"
    elif data.startswith(OLE_MAGIC):
        content = "xls"
    else:
        content = "csv"
    if suffix in WORKBOOK_SUFFIXES and content == "csv":
        raise refuse(f"文件 {file_name} 的扩展名是 {suffix}，内容却不是 Excel 工作簿，请确认文件", "bad_type")
    if suffix == ".csv" and content != "csv":
        raise refuse(f"文件 {file_name} 的扩展名是 .csv，内容却是 Excel 工作簿，请把扩展名改为 .xlsx 或 .xls", "bad_type")
    return content


def decode_text(data: bytes) -> tuple[str, str]:
    """The text of a CSV and the encoding that read it (utf-8, utf-8-sig or gb18030)."""
    # A stray NUL in a text field is stripped later like any control character; many of
    # them mean UTF-16 ("Unicode text") or a binary file.
    head = data[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head.count(b"\x00") > len(head) // 10:
        raise refuse("CSV 文件含有二进制内容（或为 UTF-16 编码），请另存为 UTF-8 或 GBK 编码的 CSV", "bad_encoding")
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8-sig" and not data.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8"
        return text, encoding
    raise refuse("无法识别 CSV 文件的编码：请另存为 UTF-8 或 GBK 编码", "bad_encoding")


def _workbook_rows(data: bytes, content: str) -> tuple[Iterator[list[Any]], int]:
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not workbook.sheet_names:
            raise refuse("工作簿中没有工作表", "empty_sheet")
        sheet = workbook.get_sheet_by_index(0)
    except python_calamine.PasswordError:
        raise refuse("工作簿已加密，请去掉打开密码后再上传", "encrypted") from None
    except InvalidInput:
        raise
    except Exception:  # calamine raises several types (zip, xml, cfb) for one meaning
        if content == "xls" and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n" in data[:65536]:
            raise refuse("工作簿已加密，请去掉打开密码后再上传", "encrypted") from None
        raise refuse("工作簿已损坏或不是 Excel 文件，无法读取", "corrupt") from None
    return sheet.iter_rows(), sheet.height


def _csv_rows(text: str) -> tuple[Iterator[list[Any]], int]:
    # A first pass only counts (the per-file row limit is checked before any row is used).
    try:
        total = sum(1 for _ in csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise refuse(f"CSV 格式有误：{error}", "bad_csv") from None
    return csv.reader(io.StringIO(text)), total


def open_table(data: bytes, file_name: str, *, known: dict[str, str], required: set[str],
               label_of: dict[str, str], max_rows: int) -> Table:
    """Open a file and find its header row: the first of the first rows matching most known
    header keys. Refuses the file (InvalidInput, field "file") when it cannot be read, has no
    header row matching anything, lacks a required column, or has more than max_rows rows.
    `known` maps header keys (header_key) to the column they name, `required` lists required
    columns and `label_of` names them."""
    content = sniff(data, file_name)
    encoding = None
    if content == "csv":
        text, encoding = decode_text(data)
        rows, total = _csv_rows(text)
    else:
        rows, total = _workbook_rows(data, content)
    if total == 0:
        raise refuse("工作表是空的，没有任何内容", "empty_sheet")

    best: tuple[int, int, list[Any]] | None = None  # (matches, row number, cells)
    scanned: list[list[Any]] = []
    for number, cells in enumerate(rows, start=1):
        scanned.append(cells)
        keys = {header_key(c) for c in cells} & known.keys()
        if keys and (best is None or len(keys) > best[0]):
            best = (len(keys), number, cells)
        if number >= HEADER_SCAN_ROWS:
            break
    if best is None:
        raise refuse("找不到表头：前 20 行中没有任何一列与模板的列名相符，请下载模板对照", "no_header")
    _, header_row, header_cells = best
    header = [("" if c is None else str(c)).strip() for c in header_cells]
    missing = required - {known.get(header_key(c)) for c in header}
    if missing:
        names = "、".join(sorted(label_of[k] for k in missing))
        raise refuse(f"缺少必填列：{names}（表头在第 {header_row} 行）", "missing_columns")
    data_rows = total - header_row
    if data_rows > max_rows:
        raise refuse(f"文件有 {data_rows:,} 行，超过每个文件 {max_rows:,} 行的上限，请拆分后上传", "too_many_rows")

    def remaining() -> Iterator[list[Any]]:
        # Rows read while looking for the header and lying below it are data too.
        yield from scanned[header_row:]
        yield from rows

    return Table(content, encoding, header, header_row, data_rows, remaining())


# -- cell values -------------------------------------------------------------------------

_DATE_TEXT = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]+(\d{1,2})[:：](\d{1,2})(?:[:：](\d{1,2}))?)?$"
)
_DATE_DIGITS = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


class CellError(ValueError):
    """A cell that cannot be what its column holds; the message is shown in Chinese."""


def cell_text(value: Any) -> str | None:
    """A cell as text: NFKC (full-width digits and letters become ASCII), trimmed; an Excel
    number that is whole is written without ".0" (an external id typed as a number)."""
    if value is None:
        return None
    if type(value) is str:
        if value.isascii() or unicodedata.is_normalized("NFKC", value):
            text = value.strip()
        else:
            text = unicodedata.normalize("NFKC", value).strip()
        return text or None
    if isinstance(value, float):
        value = int(value) if value.is_integer() else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def cell_amount(value: Any, scale: int = 1) -> Decimal | None:
    """An amount in 元 (scale 1) or 万元 (scale 10,000) as 元 with two places: Excel numbers,
    "12,345.60", "１２３４５", "¥1,000", "1000元"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CellError("应为金额")
    if isinstance(value, int | float):
        number = Decimal(repr(value))
    else:
        text = cell_text(value)
        if text is None:
            return None
        text = text.replace(",", "").replace("¥", "").replace("￥", "").removesuffix("万元").removesuffix("元").strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise CellError("应为金额（数字）") from None
    if not number.is_finite():
        raise CellError("应为金额（数字）")
    return (number * scale).quantize(Decimal("0.01"))


def cell_datetime(value: Any) -> datetime | None:
    """A date or date-time: an Excel date, "2026-11-23", "2026/11/23 08:30", "2026年11月23日",
    "20261123". Naive (the platform's Beijing time) unless the text gives an offset."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, bool):
        raise CellError("应为日期")
    if isinstance(value, int | float):
        # An Excel serial number in a cell not formatted as a date (1 = 1900-01-01).
        if not 1 <= value < 2958466:
            raise CellError("应为日期")
        return _EXCEL_EPOCH + timedelta(days=float(value))
    text = cell_text(value) or ""
    if not text:
        return None
    if len(text) >= 10 and text[4] == "-":
        # The common "2026-11-23 08:30:00" in C; anything else it refuses goes the long way.
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            pass
    match = _DATE_TEXT.match(text) or _DATE_DIGITS.match(text)
    if match is None:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise CellError("应为日期（如 2026-11-23）") from None
        return parsed  # with an offset, when the text gives one
    parts = [int(p) if p else 0 for p in match.groups()]
    try:
        return datetime(*parts[:3], *parts[3:6]) if len(parts) > 3 else datetime(*parts)
    except ValueError:
        raise CellError(f"日期不存在：{text}") from None


def cell_date(value: Any) -> date | None:
    moment = cell_datetime(value)
    return None if moment is None else moment.date()
