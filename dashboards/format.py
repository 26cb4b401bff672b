"""Numbers as managers read them: money with its currency sign, rates as percentages."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from bokeh.models import CustomJSTickFormatter, NumeralTickFormatter

SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$", "CHF": "CHF ", "JPY": "¥"}
MISSING = "\u2013"  # an en dash


def _absent(value: object) -> bool:
    """None, NaN, NaT or pandas NA."""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # not a scalar
        return False


def symbol(currency: str | None) -> str:
    """The sign written before an amount (the ISO code and a space when unknown)."""
    if not currency:
        return ""
    return SYMBOLS.get(currency, f"{currency} ")


def money(value: object, currency: str | None = "EUR", decimals: int = 2) -> str:
    """`€1,234.50`; a dash when there is no value."""
    if _absent(value):
        return MISSING
    amount = float(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol(currency)}{abs(amount):,.{decimals}f}"


def moneys(amounts: dict[str, float], decimals: int = 2) -> str:
    """Amounts in several currencies side by side: `€1,200.00 · £300.00` (never added up)."""
    if not amounts:
        return MISSING
    return " · ".join(money(v, c, decimals) for c, v in sorted(amounts.items()))


def percent(value: object, decimals: int = 1) -> str:
    """A share (0.875) as `87.5%`."""
    if _absent(value):
        return MISSING
    return f"{float(value) * 100:.{decimals}f}%"


def number(value: object, decimals: int = 0) -> str:
    """`12,345` (or with decimals)."""
    if _absent(value):
        return MISSING
    return f"{float(value):,.{decimals}f}"


def minutes(value: object) -> str:
    """A duration in minutes as `45 min` or `3 h 05 min`."""
    if _absent(value):
        return MISSING
    total = round(float(value))
    if total < 60:
        return f"{total} min"
    return f"{total // 60} h {total % 60:02d} min"


def only_currency(currencies: Iterable[str | None]) -> str | None:
    """The single currency of some rows, or None when there are several (or none)."""
    found = {c for c in currencies if c}
    return found.pop() if len(found) == 1 else None


def money_ticks(currency: str | None) -> CustomJSTickFormatter:
    """Axis ticks as money (`€1,200`); numbro formats only know `$`, hence the JS."""
    return CustomJSTickFormatter(
        args={"sign": symbol(currency)},
        code="return sign + tick.toLocaleString('en-US', {maximumFractionDigits: 0});",
    )


def money_hover(column: str, currency: str | None) -> str:
    """A tooltip field of money: `€@{revenue}{0,0.00}`."""
    return f"{symbol(currency)}@{{{column}}}{{0,0.00}}"


def percent_ticks() -> NumeralTickFormatter:
    """Axis ticks as percentages of a 0..1 share."""
    return NumeralTickFormatter(format="0%")


def money_cells(currency: str | None) -> CellFormat:
    """Table cells as money (Tabulator's own formatter, which takes any sign)."""
    return {"type": "money", "symbol": symbol(currency), "precision": 2, "thousand": ","}


#: Table cells are formatted by Tabulator's own formatters, given as plain settings: equal
#: settings compare equal, so redrawing a table with new rows does not rebuild its columns.
CellFormat = dict[str, object]


def percent_cells(decimals: int = 1) -> CellFormat:
    """Table cells of a share as `87.5%` (`ui.table` shows `percent` columns times 100)."""
    return {
        "type": "money",
        "symbol": "%",
        "symbolAfter": True,
        "precision": decimals,
        "thousand": ",",
    }


def count_cells() -> CellFormat:
    """Table cells as whole numbers with thousands separators."""
    return decimal_cells(0)


def decimal_cells(decimals: int = 1) -> CellFormat:
    """Table cells with a fixed number of decimals and thousands separators."""
    return {"type": "money", "symbol": "", "precision": decimals, "thousand": ","}
