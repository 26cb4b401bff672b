"""BayNode IoT on-street bay sensors: LoRaWAN uplinks forwarded by the network server.

A payload is one uplink as JSON; the sensor's reading is the hex-encoded binary
frame in `payload_hex` (keys we do not read are ignored)::

    {"deveui": "70B3D57ED0051A2F", "received_at": "2026-11-20T08:15:03.412Z",
     "fport": 2, "fcnt": 1532, "payload_hex": "01015A00E60DAC000C05FC",
     "rx": {"rssi": -97, "snr": 7.5, "gateway": "gw-oldtown-1"},
     "attributes": {"facility": "FAC-002", "zone": "Z-01", "bay": "B-017"}}

The frame on port 2 is 11 bytes, big-endian::

    byte  0     frame type: 0x01 status change, 0x02 heartbeat (both carry the full status)
    byte  1     flags: bit0 occupied, bit1 low battery (other bits ignored)
    byte  2     battery percent 0..100, 0xFF unknown
    bytes 3-4   temperature, int16 in 0.1 degC, 0x8000 unknown
    bytes 5-6   supply voltage, uint16 in mV
    bytes 7-8   supply current, uint16 in 0.1 mA
    bytes 9-10  sensor counter, uint16 (not mapped)

Each uplink gives a `BayStatusEvent` and a `TelemetryEvent` of the sensor
(`device_id` = DevEUI in upper case); `received_at` (network-server time) is the
event time, `rx.rssi` the signal strength, and the bay comes from the device
attributes provisioned in the network server. Event ids are keyed on DevEUI, uplink
frame counter and reception time, so a re-delivered uplink keeps its ids and a
counter that restarts after a rejoin does not collide with old uplinks.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Annotated, Any

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from parkflow.events import BayStatusEvent, CanonicalEvent, EventType, TelemetryEvent, UtcTime
from parkflow.sdk import (
    PayloadError,
    SourcePlugin,
    build_event,
    describe_validation_error,
    make_event_id,
)

#: The LoRaWAN port BayNode sensors send status frames on.
STATUS_PORT = 2
FRAME_STATUS_CHANGE = 0x01
FRAME_HEARTBEAT = 0x02
FRAME_LENGTH = 11
BATTERY_UNKNOWN = 0xFF
TEMPERATURE_UNKNOWN = -0x8000  # int16 0x8000
_FLAG_OCCUPIED = 0x01
_FLAG_LOW_BATTERY = 0x02
#: Battery level at or below which `simulate` sets the low-battery flag.
LOW_BATTERY_PCT = 15
_FRAME = struct.Struct(">BBBhHHH")
_HEX = re.compile(r"[0-9A-Fa-f]*")
_NOT_HEX = re.compile(r"[^0-9A-Fa-f]")


class _Vendor(BaseModel):
    # The network server adds metadata over time: ignore what we do not read.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class Rx(_Vendor):
    """Radio metadata of the best gateway that heard the uplink."""

    rssi: Annotated[float, Field(strict=True)] | None = None
    snr: Annotated[float, Field(strict=True)] | None = None
    gateway: str | None = None


class Attributes(_Vendor):
    """Where the sensor is installed, as provisioned in the network server."""

    facility: str | None = None
    zone: str | None = None
    bay: str | None = None


class Uplink(_Vendor):
    """One uplink as the network server forwards it."""

    deveui: Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{16}$")]
    received_at: UtcTime
    fport: Annotated[int, Field(strict=True)]
    fcnt: Annotated[int, Field(strict=True, ge=0, le=2**32 - 1)]
    payload_hex: Annotated[str, StringConstraints(max_length=512)]
    rx: Rx | None = None
    attributes: Attributes | None = None


_uplink = TypeAdapter(Uplink)


def decode_frame(payload_hex: str) -> tuple[int, int, int, int, int, int, int]:
    """Decode a status frame: (type, flags, battery, temperature, mV, 0.1 mA, counter)."""
    if not _HEX.fullmatch(payload_hex):
        bad = _NOT_HEX.search(payload_hex)
        at = bad.start() if bad else 0
        raise PayloadError(
            f"payload_hex is not hexadecimal: {payload_hex[at]!r} at position {at} "
            "(expected 22 hex digits, no spaces)"
        )
    if len(payload_hex) % 2:
        raise PayloadError(
            f"payload_hex has an odd number of hex digits ({len(payload_hex)}); "
            "the frame is truncated or corrupt"
        )
    frame = bytes.fromhex(payload_hex)
    if len(frame) != FRAME_LENGTH:
        raise PayloadError(
            f"payload_hex is {len(frame)} bytes; a BayNode status frame is {FRAME_LENGTH} bytes"
        )
    values = _FRAME.unpack(frame)
    if values[0] not in (FRAME_STATUS_CHANGE, FRAME_HEARTBEAT):
        raise PayloadError(
            f"unknown frame type 0x{values[0]:02X} (expected 0x01 status change or 0x02 heartbeat)"
        )
    battery = values[2]
    if 100 < battery < BATTERY_UNKNOWN:
        raise PayloadError(f"battery byte is {battery}; expected 0-100 percent, or 0xFF unknown")
    return values


class BayNodePlugin(SourcePlugin):
    """Bay occupancy and sensor health from BayNode LoRaWAN sensors (JSON uplinks)."""

    name = "baynode"
    vendor = "BayNode IoT"
    content_type = "application/json"
    description = (
        "On-street bay sensors (LoRaWAN) whose network server forwards each uplink as JSON "
        "with a hex-encoded binary frame."
    )
    simulates = frozenset({EventType.BAY_STATUS, EventType.TELEMETRY})

    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """One uplink -> a bay status event and a telemetry event of the sensor."""
        if not payload.strip():
            raise PayloadError("payload is empty")
        try:
            uplink = _uplink.validate_json(payload)
        except ValidationError as exc:
            raise PayloadError(describe_validation_error(exc)) from None
        if uplink.fport != STATUS_PORT:
            raise PayloadError(
                f"unsupported fport {uplink.fport} (BayNode status frames use port {STATUS_PORT})"
            )
        deveui = uplink.deveui.upper()
        attributes = uplink.attributes or Attributes()
        missing = [key for key in ("facility", "zone", "bay") if not getattr(attributes, key)]
        if missing:
            what = (
                "no bay attributes" if len(missing) == 3 else f"no {' or '.join(missing)} attribute"
            )
            raise PayloadError(
                f"sensor {deveui} has {what}; provision it in the network server "
                "(attributes facility, zone, bay)"
            )
        _, flags, battery, temperature, millivolts, current, _ = decode_frame(uplink.payload_hex)
        rssi = uplink.rx.rssi if uplink.rx is not None else None
        # frame counters restart when a sensor rejoins: the uplink time keeps ids unique
        received = uplink.received_at.isoformat()
        common: dict[str, Any] = {
            "facility_id": attributes.facility,
            "device_id": deveui,
            "ts": uplink.received_at,
            "source": self.name,
        }
        return [
            build_event(
                BayStatusEvent,
                event_id=make_event_id(self.name, deveui, uplink.fcnt, received, "bay"),
                zone_id=attributes.zone,
                bay_id=attributes.bay,
                occupied=bool(flags & _FLAG_OCCUPIED),
                **common,
            ),
            build_event(
                TelemetryEvent,
                event_id=make_event_id(self.name, deveui, uplink.fcnt, received, "telemetry"),
                voltage_v=millivolts / 1000,
                current_a=current / 10000,
                battery_pct=None if battery == BATTERY_UNKNOWN else battery,
                temperature_c=None if temperature == TEMPERATURE_UNKNOWN else temperature / 10,
                rssi_dbm=rssi,
                **common,
            ),
        ]

    def simulate(self, events: Sequence[CanonicalEvent], tz: tzinfo = UTC) -> bytes:
        """Render one sensor's bay status (and telemetry) as the uplink JSON (UTC time).

        Without telemetry the frame says battery and temperature unknown, and 0 for
        voltage and current.
        `tz` is not used: the network server stamps uplinks in UTC.
        """
        bay = [e for e in events if isinstance(e, BayStatusEvent)]
        telemetry = [e for e in events if isinstance(e, TelemetryEvent)]
        if len(bay) != 1 or len(telemetry) > 1 or len(bay) + len(telemetry) != len(events):
            raise ValueError(
                "one BayNode uplink carries one BayStatusEvent and at most one TelemetryEvent"
            )
        status = bay[0]
        if not re.fullmatch(r"[0-9A-Fa-f]{16}", status.device_id):
            raise ValueError(f"device_id {status.device_id!r} is not a 16-hex-digit DevEUI")
        battery, temperature, millivolts, current = BATTERY_UNKNOWN, TEMPERATURE_UNKNOWN, 0, 0
        rssi = None
        if telemetry:
            reading = telemetry[0]
            key = (status.facility_id, status.device_id, status.ts)
            if (reading.facility_id, reading.device_id, reading.ts) != key:
                raise ValueError("bay status and telemetry must come from one device at one time")
            if reading.battery_pct is not None:
                battery = round(reading.battery_pct)
            if reading.temperature_c is not None:
                temperature = round(reading.temperature_c * 10)
            millivolts = round(reading.voltage_v * 1000)
            current = round(reading.current_a * 10000)
            rssi = reading.rssi_dbm
        fcnt = zlib.crc32(status.event_id.encode()) & 0xFFFF
        flags = (_FLAG_OCCUPIED if status.occupied else 0) | (
            _FLAG_LOW_BATTERY if battery <= LOW_BATTERY_PCT else 0
        )
        try:
            frame = _FRAME.pack(
                FRAME_STATUS_CHANGE, flags, battery, temperature, millivolts, current, fcnt
            )
        except struct.error:
            raise ValueError("a telemetry value does not fit the BayNode frame") from None
        ts = status.ts.astimezone(UTC)
        timespec = "milliseconds" if ts.microsecond % 1000 == 0 else "microseconds"
        body: dict[str, Any] = {
            "deveui": status.device_id.upper(),
            "received_at": ts.replace(tzinfo=None).isoformat(timespec=timespec) + "Z",
            "fport": STATUS_PORT,
            "fcnt": fcnt,
            "payload_hex": frame.hex().upper(),
            "attributes": {
                "facility": status.facility_id,
                "zone": status.zone_id,
                "bay": status.bay_id,
            },
        }
        if rssi is not None:
            body["rx"] = {"rssi": rssi}
        return orjson.dumps(body)
