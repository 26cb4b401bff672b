"""A parser process: `Normalizer.normalize` on batches the worker sends on stdin.

Started by `streaming.parsers.ParserProcess` as `python -m streaming.parser_process`.
Every message either way is a pickle behind its length (8 bytes, big-endian):

1. the worker sends (plate key or None, largest payload in bytes, young-generation
   GC threshold) and the process answers None once its plugins are loaded;
2. then each batch, as (a list of (vendor, payload bytes), parking.events' partition
   count, when each payload was received or None), is answered with its `NormalizedBatch`,
   in the order the batches came.

The process exits when its stdin closes, which is also what happens when the
worker dies, however it dies.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from typing import Any, BinaryIO

LENGTH = struct.Struct(">Q")


def read_message(stream: BinaryIO) -> Any:
    """The next message, or EOFError when the stream has ended."""
    header = stream.read(LENGTH.size)
    if len(header) < LENGTH.size:
        raise EOFError
    (size,) = LENGTH.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        raise EOFError
    return pickle.loads(body)


def frame(message: Any) -> bytes:
    """A message as sent: its pickle behind its length."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(body)) + body


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer batches until `requests` ends."""
    from parkflow.plates import PlateHasher
    from parkflow.registry import discover_plugins
    from streaming.gc_tuning import tune_garbage_collector
    from streaming.normalizing import Normalizer

    try:
        plate_key, max_payload_bytes, gc_threshold = read_message(requests)
        normalizer = Normalizer(
            discover_plugins(), PlateHasher(plate_key) if plate_key else None, max_payload_bytes
        )
        tune_garbage_collector(gc_threshold)
        answers.write(frame(None))
        answers.flush()
        while True:
            payloads, partitions, received = read_message(requests)
            answers.write(frame(normalizer.normalize(payloads, partitions, received)))
            answers.flush()
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        return


def main() -> None:
    """Serve on stdin and stdout; anything else printing goes to stderr instead."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, answers)


if __name__ == "__main__":
    main()
