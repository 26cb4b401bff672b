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
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

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
MAX_READS_PER_PAYLOAD = 1000


class _Vendor(BaseModel):
    # Vendors add fields in new firmware: ignore what we do not read.
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class Camera(_Vendor):
    """The camera that saw the vehicle."""

    id: str
    site: str
    gate: str
    lane: int | str


class PlateRead(_Vendor):
    """The plate as read: text and confidence in percent."""

    text: str
    confidence: Annotated[float, Field(strict=True)]
    country: str | None = None


class Vehicle(_Vendor):
    """The vehicle classification."""

    vehicle_class: str = Field(default="other", alias="class")


class Read(_Vendor):
    """One plate read."""

    id: str | int
    direction: str
    captured_at: str
    plate: PlateRead
    vehicle: Vehicle | None = None
    image_url: str | None = None


class Upload(_Vendor):
    """A payload: one read, or a batch of buffered reads."""

    schema_: Literal["camguard.anpr/v2"] = Field(default=SCHEMA, alias="schema")
    camera: Camera
    read: Read | None = None
    reads: Annotated[list[Read], Field(min_length=1, max_length=MAX_READS_PER_PAYLOAD)] | None = (
        None
    )


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
        if upload.reads is not None:
            reads = upload.reads
        elif upload.read is not None:
            reads = [upload.read]
        else:
            raise PayloadError("payload has neither 'read' nor 'reads'")
        return [self._to_event(upload.camera, read) for read in reads]

    def _to_event(self, camera: Camera, read: Read) -> CanonicalEvent:
        model = _DIRECTIONS.get(read.direction.lower())
        if model is None:
            raise PayloadError(f"direction must be 'in' or 'out', got {read.direction[:20]!r}")
        vehicle_class = read.vehicle.vehicle_class.lower() if read.vehicle else "other"
        return build_event(
            model,
            event_id=make_event_id(self.name, read.id),
            facility_id=camera.site,
            device_id=camera.id,
            gate_id=camera.gate,
            lane=str(camera.lane),
            ts=read.captured_at,
            source=self.name,
            plate=read.plate.text,
            plate_confidence=round(read.plate.confidence / 100, 4),
            vehicle_type=_VEHICLE_CLASSES.get(vehicle_class, VehicleType.UNKNOWN),
            image_url=read.image_url,
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
