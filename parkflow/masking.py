"""Masking the bytes of a rejected payload, so that a dead letter carries no licence plate.

A payload that could not be parsed may still hold a plate in clear text, and no parser can
say where. With plate hashing on (the default), a dead letter therefore keeps the payload's
shape instead of its content: every ASCII letter becomes `X`, every digit `9`, and every
byte of a multi-byte character (or invalid UTF-8) `?`, one byte for one byte. Punctuation,
spaces and line breaks stay, so the reason's offsets, line numbers, delimiters and JSON
structure can still be read. The original bytes remain in `raw.<vendor>` at the dead
letter's topic, partition and offset for the topic's retention.
"""

from __future__ import annotations

_MASK = bytes(
    ord("X")
    if chr(byte).isascii() and chr(byte).isalpha()
    else ord("9")
    if chr(byte).isdigit() and byte < 128
    else ord("?")
    if byte >= 128
    else byte
    for byte in range(256)
)


def mask_payload(payload: bytes) -> bytes:
    """`payload` with letters, digits and non-ASCII bytes masked (same length)."""
    return payload.translate(_MASK)
