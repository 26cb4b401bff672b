"""Plugins that break the contract in different ways, for the registry and kit tests."""

from parkflow.events import EntryEvent
from parkflow.sdk import PayloadError, SourcePlugin, build_event, load_json, make_event_id


class GoodPlugin(SourcePlugin):
    name = "good"
    vendor = "Good Inc."
    content_type = "application/json"

    def parse(self, payload: bytes) -> list:
        data = load_json(payload)
        if not isinstance(data, dict) or "plate" not in data:
            raise PayloadError("need an object with a plate")
        return [
            build_event(
                EntryEvent,
                event_id=make_event_id(self.name, str(data.get("id"))),
                facility_id="FAC-001",
                device_id="CAM-1",
                gate_id="G-1",
                lane="1",
                ts="2026-11-20T08:00:00Z",
                source=self.name,
                plate=data["plate"],
                plate_confidence=0.9,
            )
        ]


class AnotherGood(GoodPlugin):
    """Same name as GoodPlugin, from 'another package'."""

    vendor = "Impostor Ltd."


class NotAPlugin:
    name = "notaplugin"


class NoParse(SourcePlugin):
    name = "noparse"
    vendor = "Lazy"
    content_type = "text/plain"


class BadName(GoodPlugin):
    name = "Bad Name!"


class NoVendor(GoodPlugin):
    name = "novendor"
    vendor = ""


class CrashOnInit(GoodPlugin):
    name = "crashoninit"

    def __init__(self) -> None:
        raise RuntimeError("needs a licence key")


class LeakyPlugin(GoodPlugin):
    """Raises KeyError instead of PayloadError on objects without 'id': the kit must notice."""

    name = "leaky"

    def parse(self, payload: bytes) -> list:
        data = load_json(payload)
        if isinstance(data, dict) and "plate" in data:
            data["id"].upper()  # KeyError / AttributeError leak out
        return super().parse(payload)


class UnvalidatedPlugin(GoodPlugin):
    """Builds events without validation: the kit must catch the invalid ones."""

    name = "unvalidated"

    def parse(self, payload: bytes) -> list:
        [event] = super().parse(payload)
        return [event.model_copy(update={"plate_confidence": 7.0})]


class WrongSource(GoodPlugin):
    name = "wrongsource"

    def parse(self, payload: bytes) -> list:
        return [e.model_copy(update={"source": "good"}) for e in super().parse(payload)]
