"""Tables as Excel workbooks (.xlsx, written with XlsxWriter), the way managers expect them.

One sheet named after the report; a bold header row of the report's column titles, frozen and
with filter buttons; amounts in each row's own currency (`€1,234.50`; a row in pounds keeps
`£`); shares as percentages; days and times as real Excel dates; counts with thousands
separators; columns wide enough to read. Rows are streamed to the file (XlsxWriter's
constant-memory mode), so memory stays flat however long the report is.

Texts are written as texts, never as formulas or links, whatever they start with.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from dashboards import format as fmt

MAX_ROWS = 1_048_575  # an Excel sheet holds 1,048,576 rows, one of them the header
SHEET_NAME = re.compile(r"[\[\]:*?/\\]")  # characters Excel refuses in a sheet name
EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's (1900) date system

COUNT = "#,##0"
DECIMAL = "#,##0.0"
AMOUNT = "#,##0.00"  # money whose currency is unknown
PERCENT = "0.0%"
DAY = "yyyy-mm-dd"
TIME = "yyyy-mm-dd hh:mm"
MIN_WIDTH, MAX_WIDTH = 8, 48
WIDTH_SAMPLE = 2_000  # rows looked at to size a text column
HEADER = {"bold": True, "bg_color": "#E8EEF7", "text_wrap": True, "valign": "top"}


@dataclass(frozen=True)
class Columns:
    """How a table's columns are shown: titles and the columns that need a special format."""

    titles: Mapping[str, str] = field(default_factory=dict)
    money: frozenset[str] = frozenset()
    percent: frozenset[str] = frozenset()
    days: frozenset[str] = frozenset()  # dates without a time of day
    currency: str = "currency"  # the column naming each row's currency


def money_format(currency: str | None) -> str:
    """`"€"#,##0.00`: the amount with its currency sign (the ISO code when there is none)."""
    sign = fmt.symbol(currency).replace('"', "").replace("\\", "")
    return f'"{sign}"{AMOUNT}' if sign else AMOUNT


def number_format(series: pd.Series, name: str, columns: Columns) -> str | None:
    """The number format of a column that is not money (None: Excel's default)."""
    if name in columns.percent:
        return PERCENT
    if pd.api.types.is_datetime64_any_dtype(series):
        return DAY if name in columns.days else TIME
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_integer_dtype(series):
        return COUNT
    if pd.api.types.is_float_dtype(series):
        return DECIMAL
    return None


def column_width(series: pd.Series, title: str, number_format: str | None) -> int:
    """A width (in characters) that fits the title and the values."""
    if number_format in (DAY, TIME, PERCENT):
        longest = len(number_format)
    elif pd.api.types.is_bool_dtype(series):
        longest = len("FALSE")
    elif pd.api.types.is_numeric_dtype(series):
        biggest = series.abs().max() if len(series) else None
        longest = len(f"{biggest:,.2f}") + 2 if pd.notna(biggest) else 0  # sign and symbol
    else:  # text: a sample of the values is enough
        sample = series.head(WIDTH_SAMPLE).dropna().astype(str)
        longest = int(sample.str.len().max()) if len(sample) else 0
    return min(MAX_WIDTH, max(MIN_WIDTH, len(title) + 2, longest + 2))


def _cells(series: pd.Series) -> tuple[list[object], str]:
    """The column's values as Excel takes them, and the kind of cell (text, number, boolean).

    Days and times become Excel date numbers; missing values None (an empty cell).
    """
    if pd.api.types.is_datetime64_any_dtype(series):
        if getattr(series.dt, "tz", None) is not None:
            series = series.dt.tz_localize(None)  # Excel has no time zones
        series = (series - EXCEL_EPOCH) / pd.Timedelta(days=1)
    if pd.api.types.is_bool_dtype(series):
        kind = "boolean"
    elif pd.api.types.is_numeric_dtype(series):
        kind = "number"
    else:
        kind = "text"
        series = series.astype(str).where(series.notna(), None)  # type: ignore[assignment]
    return series.astype(object).where(series.notna(), None).tolist(), kind


def _writer(sheet: Worksheet, kind: str) -> Callable[..., int]:
    """The XlsxWriter method that writes that kind of cell as it is (no type guessing)."""
    if kind == "boolean":
        return sheet.write_boolean
    if kind == "number":
        return sheet.write_number
    return sheet.write_string


def to_xlsx(frame: pd.DataFrame, sheet_name: str, columns: Columns | None = None) -> io.BytesIO:
    """An .xlsx workbook of `frame` (at most `MAX_ROWS` rows) with one formatted sheet."""
    if len(frame) > MAX_ROWS:
        raise ValueError(f"{len(frame):,} rows do not fit in an Excel sheet ({MAX_ROWS:,})")
    columns = columns or Columns()
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"constant_memory": True})
    formats: dict[str, Format] = {}

    def style(number: str | None) -> Format | None:
        if number is None:
            return None
        if number not in formats:
            formats[number] = book.add_format({"num_format": number})
        return formats[number]

    sheet = book.add_worksheet(SHEET_NAME.sub(" ", sheet_name)[:31].strip() or "Report")
    names = list(frame.columns)
    titles = [columns.titles.get(name, name) for name in names]
    if columns.currency in frame.columns:
        currencies = [money_format(c) for c in _cells(frame[columns.currency])[0]]
    else:
        currencies = [AMOUNT] * len(frame)
    plan = []  # per column: values, write method, fixed format (None for money: per row)
    for number, (name, title) in enumerate(zip(names, titles, strict=True)):
        values, kind = _cells(frame[name])
        shown = AMOUNT if name in columns.money else number_format(frame[name], name, columns)
        sheet.set_column(number, number, column_width(frame[name], title, shown))
        fixed = None if name in columns.money else style(shown)
        plan.append((values, _writer(sheet, kind), name in columns.money, fixed))
    header = book.add_format(HEADER)
    for number, title in enumerate(titles):
        sheet.write_string(0, number, title, header)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(frame), max(0, len(names) - 1))
    for row in range(len(frame)):
        money = style(currencies[row])
        for number, (values, write, is_money, fixed) in enumerate(plan):
            value = values[row]
            if value is not None:
                write(row + 1, number, value, money if is_money else fixed)
    book.close()
    buffer.seek(0)
    return buffer
