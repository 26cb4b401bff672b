"""The Excel workbooks of the Reports page, read back with openpyxl (no browser).

The browser test downloads one and compares it with the CSV; these check the formats a
manager sees (money per currency, percentages, the sheet), that texts never turn into
formulas, and what happens when a report does not fit in a sheet.
"""

from __future__ import annotations

import io

import openpyxl
import pandas as pd
import panel_material_ui as pmui
import pytest

from dashboards import excel
from dashboards.data import Marts
from dashboards.format import symbol
from dashboards.pages.reports import REPORTS, ReportsPage, to_xlsx
from dashboards.shell import Shell


def read(workbook: io.BytesIO):
    """The only sheet of a workbook."""
    book = openpyxl.load_workbook(workbook)
    assert len(book.worksheets) == 1
    return book.active


def reports_page(marts_dir, report: str) -> ReportsPage:
    page = Shell(Marts(marts_dir), {"report": report}).page("reports")
    assert isinstance(page, ReportsPage)
    return page


def test_revenue_workbook_shows_money_per_currency_and_compliance_as_percent(marts_dir):
    page = reports_page(marts_dir, "revenue")
    frame = page.rows()
    assert len(frame) > 2
    frame.loc[frame.index[::2], "currency"] = "GBP"  # a second currency, on every other row
    sheet = read(to_xlsx(frame, REPORTS["revenue"]))
    assert sheet.title == "Daily revenue"
    header, *rows = list(sheet.iter_rows())
    assert [c.value for c in header] == [REPORTS["revenue"].titles[c] for c in frame.columns]
    assert len(rows) == len(frame)
    column = {name: number for number, name in enumerate(frame.columns)}
    for (_, expected), row in zip(frame.iterrows(), rows, strict=True):
        revenue, compliance = row[column["revenue"]], row[column["payment_compliance"]]
        assert revenue.value == pytest.approx(float(expected["revenue"]))
        assert symbol(expected["currency"]) in revenue.number_format
        assert row[column["currency"]].value == expected["currency"]
        if pd.isna(expected["payment_compliance"]):
            assert compliance.value is None
        else:
            assert compliance.value == pytest.approx(expected["payment_compliance"])
            assert compliance.number_format.endswith("%")
        assert row[column["local_date"]].is_date


def test_the_page_workbook_is_the_rows_of_its_filters(marts_dir):
    page = reports_page(marts_dir, "sessions")
    page.filters.facility = "FAC-001"
    sheet = read(page.workbook())
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == page.rows()["session_id"].tolist()
    assert ids


def test_texts_stay_texts_and_sheet_names_are_cleaned():
    texts = ["=1+1", '=HYPERLINK("http://example.com","x")', "+SUM(A1)", "@cmd", "http://x.y"]
    frame = pd.DataFrame({"facility_id": texts, "n": range(len(texts))})
    sheet = read(excel.to_xlsx(frame, "a/b:c*?[d]"))
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in cells] == texts
    assert {c.data_type for c in cells} == {"s"}  # never a formula
    assert not any(c.hyperlink for c in cells)
    assert sheet.title == "a b c   d"


def test_more_rows_than_a_sheet_holds_are_refused():
    frame = pd.DataFrame({"n": range(excel.MAX_ROWS + 1)})
    with pytest.raises(ValueError, match="do not fit"):
        excel.to_xlsx(frame, "big")


def test_a_report_too_long_for_excel_offers_csv_only(marts_dir, monkeypatch):
    page = reports_page(marts_dir, "sessions")
    rows = len(page.rows())
    monkeypatch.setattr(excel, "MAX_ROWS", rows - 1)
    buttons = page.render().select(pmui.FileDownload)
    by_kind = {b.css_classes[0]: b for b in buttons}
    assert not by_kind["pf-download-csv"].disabled
    assert by_kind["pf-download-xlsx"].disabled
    assert "use CSV" in by_kind["pf-download-xlsx"].label
