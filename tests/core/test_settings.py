"""Settings come from PARKFLOW_* variables; the plate key is created once and kept private."""

import stat

import pytest

from parkflow.settings import Settings, SettingsError, load_settings


def test_defaults(monkeypatch):
    for name in ("PARKFLOW_DATA_DIR", "PARKFLOW_KAFKA_BOOTSTRAP", "PARKFLOW_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert str(settings.data_dir) == "data"
    assert settings.kafka_bootstrap is None
    assert settings.hash_plates is True
    assert settings.plugin_allowlist is None


def test_environment_overrides(monkeypatch, tmp_path):
    monkeypatch.setenv("PARKFLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PARKFLOW_HASH_PLATES", "false")
    monkeypatch.setenv("PARKFLOW_PLUGINS", "a, b,")
    settings = load_settings()
    assert settings.data_dir == tmp_path
    assert settings.hash_plates is False
    assert settings.plugin_allowlist == frozenset({"a", "b"})


def test_plate_key_from_the_environment_is_never_printed(monkeypatch):
    monkeypatch.setenv("PARKFLOW_PLATE_KEY", "s3cret-s3cret-s3cret")
    settings = load_settings()
    assert settings.resolve_plate_key() == b"s3cret-s3cret-s3cret"
    assert "s3cret" not in repr(settings) and "s3cret" not in settings.model_dump_json()


def test_a_generated_plate_key_is_persisted_with_private_permissions(tmp_path):
    settings = Settings(data_dir=tmp_path)
    key = settings.resolve_plate_key()
    assert len(key) == 64
    assert Settings(data_dir=tmp_path).resolve_plate_key() == key
    mode = (tmp_path / "secrets" / "plate_key").stat().st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_an_invalid_setting_is_named_and_a_secret_one_is_not_echoed(monkeypatch):
    monkeypatch.setenv("PARKFLOW_PARTITIONS", "many")
    monkeypatch.setenv("PARKFLOW_INGEST_TOKEN", "s3cret-token,,")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    message = str(raised.value)
    assert "PARKFLOW_PARTITIONS: Input should be a valid integer" in message
    assert "(got 'many')" in message
    assert "PARKFLOW_INGEST_TOKEN: an empty token" in message
    assert "s3cret" not in message


def test_several_ingest_tokens_are_each_accepted_in_order(monkeypatch):
    monkeypatch.setenv("PARKFLOW_INGEST_TOKEN", "new-token, old-token")
    assert Settings().ingest_tokens == [b"new-token", b"old-token"]
    monkeypatch.delenv("PARKFLOW_INGEST_TOKEN")
    assert Settings().ingest_tokens == []
