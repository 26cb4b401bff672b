"""CamGuard ANPR gate cameras: JSON plate reads posted by entry and exit cameras.

A payload is one JSON object: the `camera` that saw the vehicle and either one
`read` or, when a camera uploads what it buffered while offline, a list of `reads`::

    {"schema": "camguard.anpr/v2",
     "camera": {"id": "FAC-001-CAM-IN-1", "site": "FAC-001", "gate": "G-IN-1", "lane": 1},
     "read": {"id": "7f3c9a2e41d84b0f", "direction": "in",
              "captured_at": "2026-11-20T08:15:03.120+01:00",
              "plate": {"text": "AB-123-C", "confidence": 93.4, "country": "NL"},
              "vehicle": {"class": "car"}, "image_url": "https://..."}}

Confidence is a percentage; direction `in` is an entry and `out` an exit; the
vehicle class vocabulary is mapped to ParkFlow's (unknown classes -> UNKNOWN).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo
from typing import Annotated, Any, Literal, NotRequired

import orjson
from pydantic import Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

from parkflow.events import CanonicalEvent, EntryEvent, EventType, ExitEvent, VehicleType
from parkflow.sdk import (
    PayloadError,
    SourcePlugin,
    build_event,
    describe_validation_error,
    make_event_id,
)

SCHEMA = "camguard.anpr/v2"
_DIRECTIONS = {"in": EntryEvent, "out": ExitEvent}
_VEHICLE_CLASSES = {
    "car": VehicleType.CAR,
    "motorbike": VehicleType.MOTORCYCLE,
    "motorcycle": VehicleType.MOTORCYCLE,
    "truck": VehicleType.TRUCK,
    "hgv": VehicleType.TRUCK,
    "van": VehicleType.VAN,
    "lcv": VehicleType.VAN,
    "bus": VehicleType.BUS,
    "coach": VehicleType.BUS,
}
_CLASS_NAMES = {
    VehicleType.CAR: "car",
    VehicleType.MOTORCYCLE: "motorbike",
    VehicleType.TRUCK: "truck",
    VehicleType.VAN: "van",
    VehicleType.BUS: "bus",
    VehicleType.UNKNOWN: "other",
}
_UNKNOWN = VehicleType.UNKNOWN
MAX_READS = 1000


# The wire format as typed dicts: pydantic validates them in one Rust pass, about twice
# as fast as nested models. Keys we do not read are ignored (new firmware adds fields).


class Camera(TypedDict):
    """The camera that saw the vehicle."""

    id: str
    site: str
    gate: str
    lane: int | str


class PlateRead(TypedDict):
    """The plate as read: text and confidence in percent."""

    text: str
    confidence: Annotated[float, Field(strict=True, allow_inf_nan=False)]


Vehicle = TypedDict("Vehicle", {"class": NotRequired[str]})


class Read(TypedDict):
    """One plate read."""

    id: str | int
    direction: str
    captured_at: str
    plate: PlateRead
    vehicle: NotRequired[Vehicle | None]
    image_url: NotRequired[str | None]


class Upload(TypedDict):
    """A payload: one read, or a batch of buffered reads."""

    schema: NotRequired[Literal["camguard.anpr/v2"]]
    camera: Camera
    read: NotRequired[Read]
    reads: NotRequired[Annotated[list[Read], Field(min_length=1, max_length=MAX_READS)]]


_upload = TypeAdapter(Upload)


class CamGuardPlugin(SourcePlugin):
    """ANPR entry/exit reads from CamGuard gate cameras (JSON over HTTP)."""

    name = "camguard"
    vendor = "CamGuard Vision"
    content_type = "application/json"
    description = "ANPR gate cameras posting JSON plate reads (entries and exits)."
    simulates = frozenset({EventType.ENTRY, EventType.EXIT})

    def parse(self, payload: bytes) -> list[CanonicalEvent]:
        """One or a batch of plate reads -> entry / exit events."""
        if not payload.strip():
            raise PayloadError("payload is empty")
        try:
            upload = _upload.validate_json(payload)
        except ValidationError as exc:
            raise PayloadError(describe_validation_error(exc)) from None
        reads = upload.get("reads")
        if reads is None:
            read = upload.get("read")
            if read is None:
                raise PayloadError("payload has neither 'read' nor 'reads'")
            reads = [read]
        camera = upload["camera"]
        return [self._to_event(camera, read) for read in reads]

    def _to_event(self, camera: Camera, read: Read) -> CanonicalEvent:
        model = _DIRECTIONS.get(read["direction"].lower())
        if model is None:
            raise PayloadError(f"direction must be 'in' or 'out', got {read['direction'][:20]!r}")
        vehicle = read.get("vehicle") or {}
        plate = read["plate"]
        return build_event(
            model,
            event_id=make_event_id(self.name, read["id"]),
            facility_id=camera["site"],
            device_id=camera["id"],
            gate_id=camera["gate"],
            lane=str(camera["lane"]),
            ts=read["captured_at"],
            source=self.name,
            plate=plate["text"],
            plate_confidence=round(plate["confidence"] / 100, 4),
            vehicle_type=_VEHICLE_CLASSES.get(vehicle.get("class", "other").lower(), _UNKNOWN),
            image_url=read.get("image_url"),
        )

    def simulate(self, events: Sequence[CanonicalEvent], tz: tzinfo = UTC) -> bytes:
        """Render reads of one camera as the payload it would post (local time with offset)."""
        first = events[0]
        camera = {
            "id": first.device_id,
            "site": first.facility_id,
            "gate": first.gate_id,
            "lane": int(first.lane) if first.lane.isdigit() else first.lane,
        }
        reads = []
        for event in events:
            if (event.device_id, event.gate_id) != (first.device_id, first.gate_id):
                raise ValueError("one CamGuard payload carries the reads of one camera")
            read_id = event.event_id.replace("-", "")[:16]
            read: dict[str, Any] = {
                "id": read_id,
                "direction": "in" if event.event_type == EventType.ENTRY else "out",
                "captured_at": event.ts.astimezone(tz).isoformat(timespec="milliseconds"),
                "plate": {
                    "text": event.plate,
                    "confidence": round(event.plate_confidence * 100, 2),
                },
                "vehicle": {"class": _CLASS_NAMES[event.vehicle_type]},
            }
            if event.image_url:
                read["image_url"] = event.image_url
            reads.append(read)
        body: dict[str, Any] = {"schema": SCHEMA, "camera": camera}
        if len(reads) == 1:
            body["read"] = reads[0]
        else:
            body["reads"] = reads
        return orjson.dumps(body)
