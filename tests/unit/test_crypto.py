"""The credential envelope of data-model §7: round trip, the stored shape, key ids, rotation by
rewrap, the insecure default key and key-ring errors."""

from __future__ import annotations

import base64
import json

import pytest

from noetl_pg.crypto import INSECURE_KEY_ID, DecryptionError, KeyRing
from noetl_pg.errors import ConfigError

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()


def test_round_trip_and_envelope_shape() -> None:
    ring = KeyRing.from_settings(K1)
    stored = ring.encrypt({"user": "ü", "n": 1})
    envelope = json.loads(stored)
    assert list(envelope) == ["v", "alg", "ct", "dek"]
    assert list(envelope["dek"]) == ["p", "kid", "kv", "ct"]
    assert envelope["dek"] == {**envelope["dek"], "p": "local", "kid": "env:NOETL_ENCRYPTION_KEY", "kv": "v1"}
    assert len(base64.b64decode(envelope["dek"]["ct"])) == 60
    assert ring.decrypt(stored) == {"user": "ü", "n": 1}
    assert ring.encrypt({"a": 1}) != ring.encrypt({"a": 1})


def test_rotation_reads_old_keys_and_rewrap_moves_to_the_primary() -> None:
    old = KeyRing.from_settings(K1, "v1")
    stored = old.encrypt({"secret": "x"})
    new = KeyRing.from_settings(K2, "v2", f"v1={K1}")
    assert new.decrypt(stored) == {"secret": "x"}
    rewrapped = new.rewrap(stored)
    assert rewrapped is not None and json.loads(rewrapped)["dek"]["kv"] == "v2"
    assert json.loads(rewrapped)["ct"] == json.loads(stored)["ct"]
    assert new.rewrap(rewrapped) is None
    with pytest.raises(DecryptionError, match="unknown key id 'v2'"):
        old.decrypt(rewrapped)


def test_tampering_and_non_envelopes_fail() -> None:
    ring = KeyRing.from_settings(K1)
    envelope = json.loads(ring.encrypt({"a": 1}))
    envelope["ct"] = base64.b64encode(b"\0" * 40).decode()
    with pytest.raises(DecryptionError, match="authentication"):
        ring.decrypt(json.dumps(envelope))
    with pytest.raises(DecryptionError, match="not an envelope"):
        ring.decrypt('{"user": "plain"}')
    with pytest.raises(DecryptionError, match="not an envelope"):
        ring.decrypt("b64armour==")
    kms = json.loads(ring.encrypt({"a": 1}))
    kms["dek"]["p"] = "gcp-kms"
    with pytest.raises(DecryptionError, match="gcp-kms"):
        ring.decrypt(json.dumps(kms))
    legacy = KeyRing.from_settings(K1, allow_plaintext=True)
    assert legacy.decrypt('{"user": "plain"}') == {"user": "plain"}


def test_insecure_default_key() -> None:
    with pytest.raises(ConfigError, match="NOETL_ENCRYPTION_KEY"):
        KeyRing.from_settings(None)
    ring = KeyRing.from_settings("", allow_insecure_default=True)
    assert ring.insecure and ring.primary_id == INSECURE_KEY_ID
    assert base64.b64encode(ring.keys[INSECURE_KEY_ID]).decode() == "Uy+vuMvor4Idg20lOs878FZpddVikhzHzjsYuLgi4wY="
    stored = ring.encrypt({"a": 1})
    assert KeyRing.from_settings(K1, allow_insecure_default=True).decrypt(stored) == {"a": 1}
    with pytest.raises(DecryptionError, match="re-register"):
        KeyRing.from_settings(K1).decrypt(stored)


@pytest.mark.parametrize("key, key_id, old, message", [
    ("short", "v1", "", "base64 of 32 bytes"),
    (base64.b64encode(b"x" * 16).decode(), "v1", "", "exactly 32"),
    (K1, "bad id!", "", "KEY_ID"),
    (K1, "v1", f"v1={K2}", "already the primary"),
    (K1, "v2", f"v1={K1},v1={K1}", "more than once"),
    (K1, "v2", "nokey", "<key id>=<base64 key>"),
])
def test_key_ring_errors(key: str, key_id: str, old: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        KeyRing.from_settings(key, key_id, old)
