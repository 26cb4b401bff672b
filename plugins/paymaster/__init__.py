"""PayMaster Controls pay stations, street meters and gate controllers: payment exports.

A payload is one or more lines (LF or CRLF), one transaction per line, fields
separated by `;` (no quoting). An optional header line, exactly this one, may
come first; blank lines are ignored::

    record;terminal;facility;local_time;tz;txn_no;ticket_no;plate;amount_cents;currency;method;status;paid_until_local
    PAY;FAC-007-PS-1;FAC-007;20.11.2026 08:15:03;Europe/London;48213;T-88412;HX-512-B;350;GBP;CC;OK;
    REF;FAC-007-PS-1;FAC-007;20.11.2026 11:30:00;Europe/London;48240;T-88412;HX-512-B;350;GBP;CC;OK;

A street meter paid in coins leaves the plate empty and reports until when the
stay is paid: `...;7731;;;200;EUR;CA;OK;19.11.2026 10:02:40`.

- `record`: `PAY` a payment, `REF` a refund of an earlier payment (status must
  be `OK`; it becomes status REFUNDED and the amount stays positive). `MNT`
  (a technician's maintenance or cash-collection transaction), `DIA` (the
  terminal's self-test) and `TST` (a commissioning test) are kept as payments
  that are no revenue (purpose MAINTENANCE, DIAGNOSTIC, TEST).
- `terminal` -> device_id, `facility` -> facility_id.
- `local_time` and `paid_until_local`: wall-clock `DD.MM.YYYY HH:MM:SS` in the
  IANA time zone `tz` (e.g. Europe/Amsterdam, Europe/London). `paid_until_local`
  is optional (street meters report it). The format carries no UTC offset:
  during the autumn DST overlap the earlier of the two instants is taken.
- `txn_no`: the terminal's transaction number (positive integer);
  transaction_id is `<terminal>-<txn_no>` and the event id is derived from
  terminal and txn_no, so a re-sent export gives the same event ids.
- `ticket_no`: informational, not mapped. `plate`: empty for anonymous payments
  (coins at a meter).
- `amount_cents`: non-negative whole number of cents -> amount with 2 decimals.
- `currency`: ISO 4217 code. `method`: `CC` credit card, `DC` debit card, `MP`
  mobile payment, `CA` cash, `OT` other (voucher, token, account). A payment split
  between methods lists its parts with their cents, `CA:150+CC:200`, which must
  add up to `amount_cents` (method SPLIT, the parts in `tenders`).
- `status`: `OK` completed, `PD` pending, `KO` failed; a failure the terminal
  explains is `DE` declined, `CN` cancelled, `NP` nothing purchased or `ER`
  terminal error (status FAILED with that `failure_reason`).

One bad line rejects the whole payload: the reason names its line number, so the
export can be fixed and re-sent as a whole. At most 10,000 lines per payload.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from contextlib import suppress
from datetime import UTC, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from parkflow.events import (
    CanonicalEvent,
    EventType,
    FailureReason,
    PaymentEvent,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
)
from parkflow.sdk import (
    PayloadError,
    SourcePlugin,
    build_event,
    local_time,
    make_event_id,
    parse_lines,
    zone_info,
)

HEADER = (
    "record;terminal;facility;local_time;tz;txn_no;ticket_no;plate;amount_cents;currency;"
    "method;status;paid_until_local"
)
FIELD_COUNT = HEADER.count(";") + 1
MAX_LINES = 10_000
TIME_FORMAT = "%d.%m.%Y %H:%M:%S"
_TIME = re.compile(r"(\d\d)\.(\d\d)\.(\d{4}) (\d\d):(\d\d):(\d\d)", re.ASCII)
_MAX_TXN_DIGITS = 18
_MAX_AMOUNT_DIGITS = 12  # the canonical amount holds at most 12 digits
_METHODS = {
    "CC": PaymentMethod.CREDIT_CARD,
    "DC": PaymentMethod.DEBIT_CARD,
    "MP": PaymentMethod.MOBILE_PAYMENT,
    "CA": PaymentMethod.CASH,
    "OT": PaymentMethod.OTHER,
}
_METHOD_CODES = {method: code for code, method in _METHODS.items()}
_STATUSES = {"OK": PaymentStatus.COMPLETED, "PD": PaymentStatus.PENDING, "KO": PaymentStatus.FAILED}
_STATUS_CODES = {status: code for code, status in _STATUSES.items()}
_FAILURES = {
    "DE": FailureReason.DECLINED,
    "CN": FailureReason.CANCELLED,
    "NP": FailureReason.NOTHING_PURCHASED,
    "ER": FailureReason.ERROR,
}
_FAILURE_CODES = {reason: code for code, reason in _FAILURES.items()}
_PURPOSES = {
    "PAY": PaymentPurpose.PARKING,
    "MNT": PaymentPurpose.MAINTENANCE,
    "DIA": PaymentPurpose.DIAGNOSTIC,
    "TST": PaymentPurpose.TEST,
}
_PURPOSE_CODES = {purpose: code for code, purpose in _PURPOSES.items()}
_METHOD_HELP = (
    "CC (credit card), DC (debit card), MP (mobile payment), CA (cash), OT (other), or the "
    "parts of a split payment such as CA:150+CC:200"
)
_STATUS_HELP = (
    "OK (completed), PD (pending), KO (failed), DE (declined), CN (cancelled), "
    "NP (nothing purchased) or ER (terminal error)"
)
_RECORD_HELP = "PAY, REF, MNT (maintenance), DIA (diagnostic) or TST (test)"


def _zone(name: str) -> ZoneInfo:
    """The IANA zone of a `tz` field, or PayloadError."""
    if not name:
        raise PayloadError("tz is empty; give an IANA time zone such as Europe/Amsterdam")
    return zone_info(name)


def _time(text: str, zone: ZoneInfo, column: str) -> datetime:
    """A `DD.MM.YYYY HH:MM:SS` wall-clock time in `zone`, as UTC.

    The exact format is read by a regex (`local_time`'s strptime costs ~7 us); anything
    else goes through `local_time`, which is also what the fast path equals.
    """
    moment = None
    match = _TIME.fullmatch(text)
    if match is not None:
        day, month, year, hour, minute, second = map(int, match.groups())
        with suppress(ValueError):  # e.g. 31.02.: local_time below words the reason
            moment = datetime(year, month, day, hour, minute, second, tzinfo=zone)
    if moment is None:
        try:
            moment = local_time(text, TIME_FORMAT, zone)
        except PayloadError:
            raise PayloadError(
                f"{column} must be a time 'DD.MM.YYYY HH:MM:SS', got {text[:40]!r}"
            ) from None
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise PayloadError(f"{column} {text[:40]!r} is out of the supported date range") from None


def _digits(text: str, max_digits: int) -> bool:
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()


def _cents(text: str) -> Decimal:
    """`amount_cents` as a Decimal amount with exactly 2 decimal places."""
    if _digits(text, _MAX_AMOUNT_DIGITS):
        return Decimal(int(text)).scaleb(-2)
    if text.startswith("-") and _digits(text[1:], 10_000):
        raise PayloadError(
            "amount_cents must not be negative (refunds are REF records with a positive "
            f"amount), got {text[:20]!r}"
        )
    if _digits(text, 10_000):
        raise PayloadError(f"amount_cents has more than {_MAX_AMOUNT_DIGITS} digits")
    raise PayloadError(f"amount_cents must be a whole number of cents, got {text[:40]!r}")


def _tenders(text: str, cents: str) -> tuple[dict[str, object], ...]:
    """The parts of a split payment, `CA:150+CC:200`, which must add up to `cents`."""
    tenders = []
    for part in text.split("+"):
        code, _, part_cents = part.partition(":")
        method = _METHODS.get(code)
        if method is None or not part_cents:
            raise PayloadError(
                f"a split method lists parts such as CA:150+CC:200, got {text[:40]!r}"
            )
        tenders.append({"method": method, "amount": _cents(part_cents)})
    if len(tenders) < 2:
        raise PayloadError(f"a split payment needs two or more parts, got {text[:40]!r}")
    total = sum((t["amount"] for t in tenders), Decimal("0"))
    if _digits(cents, _MAX_AMOUNT_DIGITS) and total != Decimal(int(cents)).scaleb(-2):
        raise PayloadError(f"the parts of {text[:40]!r} do not add up to amount_cents {cents}")
    return tuple(tenders)


def _tender_text(event: PaymentEvent) -> str:
    """The method field of a payment: its code, or its parts `CA:150+CC:200`."""
    if event.method is not PaymentMethod.SPLIT:
        return _METHOD_CODES[event.method]
    return "+".join(f"{_METHOD_CODES[t.method]}:{int(t.amount * 100)}" for t in event.tenders)


def _txn_no(text: str) -> int:
    """`txn_no` as a positive integer."""
    if _digits(text, _MAX_TXN_DIGITS) and int(text) > 0:
        return int(text)
    if not text:
        raise PayloadError("txn_no is empty")
    if len(text) > _MAX_TXN_DIGITS and _digits(text, 10_000):
        raise PayloadError(f"txn_no has more than {_MAX_TXN_DIGITS} digits")
    raise PayloadError(f"txn_no must be a positive whole number, got {text[:40]!r}")


def _local_text(moment: datetime) -> str:
    return (
        f"{moment.day:02d}.{moment.month:02d}.{moment.year:04d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def _zone_for(tz: tzinfo) -> tuple[str, tzinfo]:
    """The `tz` field and zone to render in: `tz` itself when it is an IANA zone, else UTC."""
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        with suppress(PayloadError):
            return key, zone_info(key)
    return "UTC", UTC


def _simulated_txn_no(event: PaymentEvent) -> int:
    """The txn_no behind a transaction_id `<terminal>-<n>`, else a stable number from the id."""
    prefix = event.device_id + "-"
    if event.transaction_id.startswith(prefix):
        rest = event.transaction_id[len(prefix) :]
        if _digits(rest, _MAX_TXN_DIGITS) and rest[0] != "0":
            return int(rest)
    digest = hashlib.sha1(event.event_id.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:6], "big") + 1


class PayMasterPlugin(SourcePlugin):
    """Payments and refunds from PayMaster pay stations, meters and gate controllers."""

    name = "paymaster"
    vendor = "PayMaster Controls"
    content_type = "text/csv"
    description = (
        "Pay stations, meters and gate controllers exporting semicolon-separated payment "
        "transactions."
    )
    simulates = frozenset({EventType.PAYMENT})
    header_line = HEADER

    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """One or more transaction lines -> payment events (one bad line rejects them all)."""
        return parse_lines(payload, self._event, header=HEADER, max_lines=MAX_LINES)

    def _event(self, line: str) -> PaymentEvent:
        """One transaction line -> a payment event."""
        fields = line.split(";")
        if len(fields) != FIELD_COUNT:
            if line.startswith("record;"):
                raise PayloadError(f"a header line must be exactly {HEADER!r} and come first")
            raise PayloadError(f"expected {FIELD_COUNT} fields separated by ';', got {len(fields)}")
        (
            record,
            terminal,
            facility,
            at,
            tz_name,
            txn,
            _ticket,
            plate,
            cents,
            currency,
            method_code,
            status_code,
            paid_until_at,
        ) = fields
        failure = None
        purpose = _PURPOSES.get(record)
        if purpose is not None:
            status = _STATUSES.get(status_code)
            if status is None:
                failure = _FAILURES.get(status_code)
                if failure is None:
                    raise PayloadError(f"status must be {_STATUS_HELP}, got {status_code[:20]!r}")
                status = PaymentStatus.FAILED
        elif record == "REF":
            if status_code != "OK":
                raise PayloadError(
                    f"a REF (refund) record must have status OK, got {status_code[:20]!r}"
                )
            status, purpose = PaymentStatus.REFUNDED, PaymentPurpose.PARKING
        elif record == "record":
            raise PayloadError(f"a header line must be exactly {HEADER!r} and come first")
        else:
            raise PayloadError(f"record must be {_RECORD_HELP}, got {record[:20]!r}")
        tenders: tuple[dict[str, object], ...] = ()
        method = _METHODS.get(method_code)
        if method is None:
            if "+" not in method_code:
                raise PayloadError(f"method must be {_METHOD_HELP}, got {method_code[:20]!r}")
            method, tenders = PaymentMethod.SPLIT, _tenders(method_code, cents)
        if not (
            len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()
        ):
            raise PayloadError(
                f"currency must be a 3-letter ISO 4217 code such as EUR, got {currency[:20]!r}"
            )
        if not terminal:
            raise PayloadError("terminal is empty")
        if not facility:
            raise PayloadError("facility is empty")
        txn_no = _txn_no(txn)
        zone = _zone(tz_name)
        return build_event(
            PaymentEvent,
            event_id=make_event_id(self.name, terminal, txn_no),
            facility_id=facility,
            device_id=terminal,
            ts=_time(at, zone, "local_time"),
            source=self.name,
            transaction_id=f"{terminal}-{txn_no}",
            plate=plate or None,
            amount=_cents(cents),
            currency=currency,
            method=method,
            status=status,
            paid_until=_time(paid_until_at, zone, "paid_until_local") if paid_until_at else None,
            tenders=tenders,
            purpose=purpose,
            failure_reason=failure,
        )

    def simulate(self, events: Sequence[CanonicalEvent], tz: tzinfo = UTC) -> bytes:
        """Render payments as a terminal's export: one line per event, no header.

        Times are written in `tz` when it is an IANA zone (its name goes in the
        `tz` field), else in UTC. Sub-second precision is dropped.
        """
        zone_name, zone = _zone_for(tz)
        lines = []
        for event in events:
            if not isinstance(event, PaymentEvent):
                raise ValueError(f"PayMaster exports only payments, not {event.event_type}")
            refund = event.status is PaymentStatus.REFUNDED
            paid_until = event.paid_until
            if event.failure_reason is not None:
                status_code = _FAILURE_CODES[event.failure_reason]
            else:
                status_code = "OK" if refund else _STATUS_CODES[event.status]
            lines.append(
                ";".join(
                    (
                        "REF" if refund else _PURPOSE_CODES[event.purpose],
                        event.device_id,
                        event.facility_id,
                        _local_text(event.ts.astimezone(zone)),
                        zone_name,
                        str(_simulated_txn_no(event)),
                        "",
                        event.plate or "",
                        str(int(event.amount * 100)),
                        event.currency,
                        _tender_text(event),
                        status_code,
                        _local_text(paid_until.astimezone(zone)) if paid_until else "",
                    )
                )
            )
        return ("\n".join(lines) + "\n").encode()
