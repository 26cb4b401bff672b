"""The Great Expectations suites of the quality checks, kept as code.

Each function returns fresh expectation objects (GX stamps ids on the ones it stores).
`great_expectations.expectations` is imported inside them, so importing this module is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from great_expectations.expectations import Expectation

#: A pseudonymised plate: the upper-case hex of a truncated HMAC (parkflow.plates.HASH_LENGTH).
HASHED_PLATE = r"^[0-9A-F]{20}$"
#: What a clear, normalised plate looks like (AB123C, 1ABC23): 4-10 letters and digits, with at
#: least one of each. Hashes are 20 characters long, and ids keep their dashes, so neither matches.
CLEAR_PLATE = r"^(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{4,10}$"


def has_rows() -> list[Expectation]:
    """The table is not empty."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectTableRowCountToBeBetween(min_value=1)]


def occupancy_in_range() -> list[Expectation]:
    """occupancy_rate within 0..1 and the peak within capacity."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="occupancy_rate", min_value=0, max_value=1),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="capacity",
            column_B="peak_occupied",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
    ]


def not_negative(columns: list[str]) -> list[Expectation]:
    """Every value of `columns` is >= 0 (empty values pass)."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in columns]


def no_rows() -> list[Expectation]:
    """The table is empty: for dataframes that list problems (e.g. missing hours)."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectTableRowCountToEqual(value=0)]


def share_below(column: str, threshold: float) -> list[Expectation]:
    """Every value of `column` is strictly below `threshold`."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeBetween(column=column, max_value=threshold, strict_max=True)]


def fresh(column: str, max_age_hours: float) -> list[Expectation]:
    """The one row's `column` (an age in hours) is known and at most `max_age_hours`."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column),
        gxe.ExpectColumnValuesToBeBetween(column=column, max_value=max_age_hours),
    ]


def plates_hashed(columns: list[str]) -> list[Expectation]:
    """Every value of the plate `columns` is a pseudonym (empty values pass)."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToMatchRegex(column=c, regex=HASHED_PLATE) for c in columns]


def no_clear_plates(column: str) -> list[Expectation]:
    """No value of `column` looks like a clear, normalised plate."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToNotMatchRegex(column=column, regex=CLEAR_PLATE)]


def between(column: str, low: float, high: float) -> list[Expectation]:
    """Every value of `column` is within [low, high] (empty values pass)."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)]
