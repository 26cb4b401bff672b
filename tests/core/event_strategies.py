"""Hypothesis strategies for canonical events of every type, with edge-case values."""

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import strategies as st

from parkflow.events import (
    PLACEHOLDER_PLATES,
    BayStatusEvent,
    EntryEvent,
    ExitEvent,
    FailureReason,
    OccupancyCountEvent,
    PaymentEvent,
    PaymentPurpose,
    PaymentStatus,
    TelemetryEvent,
)

_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 1, 1), timezones=st.just(UTC)
)
_ids = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9_.:\- ]{0,19}[A-Za-z0-9_.:\-])?", fullmatch=True)
_floats = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)
# a read plate: never a placeholder such as NA or UNKNOWN, which means "no plate read"
_plates = st.from_regex(r"[A-Z0-9]{1,12}", fullmatch=True).filter(
    lambda plate: plate not in PLACEHOLDER_PLATES
)
_common = {"event_id": st.text(min_size=1, max_size=40), "facility_id": _ids, "device_id": _ids,
           "ts": _times, "ingested_at": _times, "source": st.just("vendor_x")}  # fmt: skip
_passes = {**_common, "plate": _plates,
           "plate_confidence": st.floats(0, 1), "gate_id": _ids, "lane": _ids,
           "vehicle_type": st.sampled_from(["CAR", "VAN", "UNKNOWN"]),
           "image_url": st.none() | st.text(max_size=30)}  # fmt: skip
any_event = st.one_of(
    st.builds(EntryEvent, **_passes),
    st.builds(ExitEvent, **_passes),
    st.builds(
        PaymentEvent,
        **_common,
        transaction_id=st.text(min_size=1, max_size=30),
        plate=st.none() | _plates,
        amount=st.decimals(min_value=0, max_value=10**9, places=2),
        currency=st.just("EUR"),
        method=st.sampled_from(["CASH", "CREDIT_CARD", "OTHER"]),
        status=st.sampled_from(list(PaymentStatus)),
        paid_until=st.none() | _times,
        purpose=st.sampled_from(list(PaymentPurpose)),
    ),
    st.builds(
        PaymentEvent,
        **_common,
        transaction_id=st.text(min_size=1, max_size=30),
        amount=st.just(Decimal("4.50")),
        currency=st.just("AUD"),
        method=st.just("SPLIT"),
        tenders=st.just(({"method": "CASH", "amount": "2"}, {"method": "OTHER", "amount": "2.5"})),
        status=st.just("FAILED"),
        failure_reason=st.none() | st.sampled_from(list(FailureReason)),
    ),
    st.builds(
        BayStatusEvent,
        **_common,
        zone_id=_ids,
        bay_id=_ids,
        occupied=st.booleans(),
        max_stay_minutes=st.none() | st.integers(1, 600),
        in_violation=st.none() | st.booleans(),
    ),
    st.builds(
        OccupancyCountEvent,
        **_common,
        occupied=st.integers(-(2**40), 2**40),
        capacity=st.none() | st.integers(1, 10**6),
        zone_id=st.none() | _ids,
    ),
    st.builds(
        TelemetryEvent,
        **_common,
        voltage_v=_floats,
        current_a=st.floats(min_value=-1e3, max_value=1e3, allow_nan=False),
        power_w=st.none() | _floats,
        battery_pct=st.none() | st.floats(0, 100),
        temperature_c=st.none() | _floats,
        rssi_dbm=st.none() | st.floats(-200, 50),
    ),
)
