"""Licence plates: normalisation, misread-tolerant match keys, and keyed pseudonymisation.

Plates are personal data. The normalize step replaces every plate by
`PlateHasher.pseudonymise(plate)` before anything reaches the lake: the plate is
first folded to a match key (characters an ANPR camera confuses are unified) and
the key is hashed with HMAC-SHA256, so the same car still matches its entry and
exit when one of the two reads mixed up an O and a 0.
"""

from __future__ import annotations

import hashlib
import hmac

_SEPARATORS = str.maketrans("", "", " -.\t")
#: Characters ANPR engines confuse, folded to one representative each.
_CONFUSABLE = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "B": "8",
                             "S": "5", "Z": "2", "G": "6"})  # fmt: skip
#: Length of a pseudonymised plate in hex characters (80 bits).
HASH_LENGTH = 20


def normalise_plate(plate: str) -> str:
    """Upper-case a plate and drop the spaces, dashes and dots vendors put in it."""
    return plate.upper().translate(_SEPARATORS)


def match_key(plate: str) -> str:
    """Fold a normalised plate so that common ANPR misreads map to the same key."""
    return normalise_plate(plate).translate(_CONFUSABLE)


class PlateHasher:
    """Keyed, misread-tolerant pseudonymisation of plates (HMAC-SHA256, hex-truncated)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the plate key must be at least 16 bytes long")
        self._key = key
        self._cache: dict[str, str] = {}

    def pseudonymise(self, plate: str) -> str:
        """The stable pseudonym of a plate: upper-case hex of HMAC(key, match_key(plate))."""
        cached = self._cache.get(plate)
        if cached is None:
            digest = hmac.new(self._key, match_key(plate).encode(), hashlib.sha256).hexdigest()
            cached = digest[:HASH_LENGTH].upper()
            if len(self._cache) > 1_000_000:  # bound memory on long-running workers
                self._cache.clear()
            self._cache[plate] = cached
        return cached
