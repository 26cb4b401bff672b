"""The tariff rule: free under grace, base + hourly per started hour, capped."""

from datetime import timedelta
from decimal import Decimal

import pytest

from parkflow.tariff import Tariff


@pytest.mark.parametrize(
    ("minutes", "due"),
    [
        (0, "0.00"),
        (4.9, "0.00"),
        (5, "5.00"),
        (60, "5.00"),
        (61, "8.00"),
        (180, "11.00"),
        (600, "25.00"),
        (4000, "25.00"),
    ],
)
def test_default_tariff(minutes, due):
    assert Tariff().amount_due(timedelta(minutes=minutes)) == Decimal(due)


def test_custom_tariff():
    tariff = Tariff(Decimal("0.00"), Decimal("4.00"), Decimal("16.00"), grace_minutes=10)
    assert tariff.amount_due(timedelta(minutes=9)) == Decimal("0.00")
    assert tariff.amount_due(timedelta(minutes=150)) == Decimal("12.00")
