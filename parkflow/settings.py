"""Settings of every ParkFlow process, read from `PARKFLOW_*` environment variables.

One place reads the environment; everything else receives a `Settings`. The
operations guide (docs/operations.md) has a table of every variable, and a test
keeps that table and this class in step.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Every setting is read from the environment variable of its name with this prefix.
ENV_PREFIX = "PARKFLOW_"


class Settings(BaseSettings):
    """ParkFlow configuration (environment variables prefixed `PARKFLOW_`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    data_dir: Path = Field(
        default=Path("data"),
        description="Root of the lake, warehouse, published marts and Dagster home.",
    )
    estate: Path | None = Field(
        default=None,
        description="The estate: a YAML file or a folder of them describing the operator's "
        "facilities (docs/estate.md). Unset: the sample estate, the demo's six facilities.",
    )
    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port,...). Unset: start the embedded broker.",
    )
    partitions: int = Field(default=4, ge=1, le=256, description="Partitions of new topics.")
    plate_key: SecretStr | None = Field(
        default=None,
        description="Secret key for plate pseudonymisation (HMAC). Unset: a random key is "
        "created once in <data_dir>/secrets/plate_key.",
    )
    hash_plates: bool = Field(
        default=True, description="Replace plates by keyed hashes before they reach the lake."
    )
    plugins: str | None = Field(
        default=None,
        description="Comma-separated plugin names to load; unset loads every installed plugin.",
    )
    worker_host: str = Field(
        default="127.0.0.1",
        description="Interface the worker's web server (live API, ingest) binds.",
    )
    worker_port: int = Field(
        default=6066, ge=0, le=65535, description="Port of the worker's web server."
    )
    kafka_session_timeout_s: float = Field(
        default=6.0,
        gt=0,
        description="Consumer-group session timeout. Short, because the embedded broker holds a "
        "JoinGroup for half of it; raise it on a busy production cluster.",
    )
    kafka_replication: int = Field(
        default=1,
        ge=1,
        le=7,
        description="Replication factor of the topics ParkFlow creates; above 1, producers wait "
        "for every in-sync replica (acks=all).",
    )
    sink_flush_s: float = Field(
        default=2.0, gt=0, description="Longest a row waits before the Parquet sink writes it."
    )
    sink_max_rows: int = Field(
        default=5000, ge=1, description="Rows per batch: a full batch is written at once."
    )
    ingest_token: SecretStr | None = Field(
        default=None,
        description="Bearer token required by POST /ingest/{vendor}; unset disables HTTP ingest. "
        "Several tokens separated by commas are each accepted, so a token can be rotated: "
        "add the new one, move the senders over, then remove the old one.",
    )
    max_payload_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest vendor payload accepted, in bytes."
    )
    ingest_timeout_s: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Longest POST /ingest waits for the broker to acknowledge the payloads; "
        "then it answers 503 with Retry-After (the client retries).",
    )
    producer_retry_s: float = Field(
        default=300.0,
        ge=0,
        description="How long `parkflow simulate --kafka` and `parkflow replay` keep re-sending "
        "payloads the broker did not acknowledge (down or paused) before they give up.",
    )
    ingest_max_body_bytes: int = Field(
        default=4_194_304,
        ge=1024,
        description="Largest HTTP request body of the bulk ingest endpoint, in bytes (a single "
        "payload's body is limited by max_payload_bytes); bigger ones are refused with 413 "
        "before they are read.",
    )
    kafka_fetch_max_wait_ms: int = Field(
        default=100,
        ge=1,
        le=30_000,
        description="Longest the worker's consumer waits for new data per fetch (applied with "
        "the Faust speedups): the embedded broker always waits this long on a quiet topic.",
    )
    faust_refetch_fix: bool = Field(
        default=True,
        description="Deliver the messages Faust reads again after a seek instead of skipping "
        "them (streaming/faust_fixes.py): without it a restarted worker can lose messages.",
    )
    parse_processes: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Processes each worker parses vendor payloads in, beside its event loop "
        "(streaming/parsers.py); 0 parses on the event loop.",
    )
    worker_gc_threshold: int = Field(
        default=50_000,
        ge=0,
        description="Allocations between the worker's young garbage collections (Python's "
        "default is 700, measured 15-20% slower here); 0 keeps Python's settings.",
    )
    faust_speedups: bool = Field(
        default=True,
        description="Apply the measured patches to faust-streaming's per-message path "
        "(streaming/faust_speedups.py); off runs Faust unchanged.",
    )

    @property
    def plugin_allowlist(self) -> frozenset[str] | None:
        """The plugin names `PARKFLOW_PLUGINS` restricts loading to, or None for all."""
        if self.plugins is None or not self.plugins.strip():
            return None
        return frozenset(name.strip() for name in self.plugins.split(",") if name.strip())

    @field_validator("ingest_token")
    @classmethod
    def _no_empty_ingest_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not all(
            part.strip() for part in value.get_secret_value().split(",")
        ):
            raise ValueError("an empty token: give one or more tokens separated by commas")
        return value

    @property
    def ingest_tokens(self) -> list[bytes]:
        """The accepted bearer tokens (`PARKFLOW_INGEST_TOKEN`, comma-separated), in order."""
        if self.ingest_token is None:
            return []
        return [part.strip().encode() for part in self.ingest_token.get_secret_value().split(",")]

    def resolve_plate_key(self) -> bytes:
        """The plate key: from the environment, else a random key persisted in the data dir."""
        if self.plate_key is not None:
            return self.plate_key.get_secret_value().encode()
        path = self.data_dir / "secrets" / "plate_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".plate_key.{os.getpid()}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(tmp, path)  # atomic: the first process to create the key wins
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return path.read_text().strip().encode()


class SettingsError(ValueError):
    """Settings from the environment that cannot be used; the message names each variable."""


def load_settings() -> Settings:
    """Read the settings from the environment now (`SettingsError` when one is invalid)."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingsError(_explain(exc)) from None


def _explain(exc: ValidationError) -> str:
    """One line per invalid variable, with what was given unless it is a secret."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        field = Settings.model_fields.get(name)
        secret = field is not None and "SecretStr" in str(field.annotation)
        given = "" if secret else f" (got {str(error.get('input'))[:60]!r})"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"invalid setting {ENV_PREFIX}{name.upper()}: {message}{given}")
    return "\n".join(lines)
