"""Credential encryption (D7, data-model §7): an AES-256-GCM envelope with a per-write data key
wrapped by a key from the key ring, so keys can rotate. The key never reaches the database."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from noetl_pg.errors import ConfigError

log = logging.getLogger(__name__)

INSECURE_KEY_ID = "insecure-default"
INSECURE_KEY = hashlib.sha256(b"noetl-insecure-default-key").digest()
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_B64_PATTERN = re.compile(r"[A-Za-z0-9+/]*={0,2}")
_ENVELOPE_KID = "env:NOETL_ENCRYPTION_KEY"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value that no configured key can open; the message names the cause."""


def _decode_key(raw: str, where: str) -> bytes:
    text = raw.strip()
    padded = text + "=" * (-len(text) % 4)
    if not text or not _B64_PATTERN.fullmatch(padded):
        raise ConfigError(f"{where} must be standard base64 of 32 bytes")
    try:
        key = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where} must be standard base64 of 32 bytes") from None
    if len(key) != 32:
        raise ConfigError(f"{where} decodes to {len(key)} bytes; AES-256 needs exactly 32")
    return key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise DecryptionError(f"not an envelope: {what} is not a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError(f"not an envelope: {what} is not valid base64") from None


def _seal(key: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, None)


def _open(key: bytes, sealed: bytes, what: str) -> bytes:
    if len(sealed) < _NONCE_BYTES + 16:
        raise DecryptionError(f"not an envelope: {what} is too short")
    try:
        return AESGCM(key).decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], None)
    except InvalidTag:
        raise DecryptionError(f"authentication failure while opening {what}") from None


@dataclass(frozen=True)
class KeyRing:
    """The primary key (encrypts and decrypts) and the old keys (decrypt only), by key id."""

    primary_id: str
    keys: Mapping[str, bytes] = field(repr=False)
    insecure: bool = False
    allow_plaintext: bool = False

    @staticmethod
    def from_settings(
        key: str | None,
        key_id: str = "v1",
        old_keys: str = "",
        *,
        allow_insecure_default: bool = False,
        allow_plaintext: bool = False,
    ) -> "KeyRing":
        """Build the ring from the §7.2 variables; every problem is a startup ConfigError."""
        keys: dict[str, bytes] = {}
        if key and key.strip():
            if not KEY_ID_PATTERN.fullmatch(key_id):
                raise ConfigError(f"NOETL_ENCRYPTION_KEY_ID must match [A-Za-z0-9._-]{{1,64}}, got {key_id!r}")
            primary_id = key_id
            keys[primary_id] = _decode_key(key, "NOETL_ENCRYPTION_KEY")
            insecure = False
        elif allow_insecure_default:
            primary_id = INSECURE_KEY_ID
            keys[primary_id] = INSECURE_KEY
            insecure = True
        else:
            raise ConfigError(
                "NOETL_ENCRYPTION_KEY is not set; set it to the base64 of 32 random bytes"
                " (or NOETL_ALLOW_INSECURE_DEFAULT_KEY=true for development only)"
            )
        if allow_insecure_default and not insecure:
            # Rows written with the insecure key stay readable only while the flag is set.
            keys.setdefault(INSECURE_KEY_ID, INSECURE_KEY)
        seen_old: set[str] = set()
        for position, entry in enumerate(filter(None, (e.strip() for e in old_keys.split(",")))):
            old_id, sep, old_key = entry.partition("=")
            old_id = old_id.strip()
            where = f"NOETL_ENCRYPTION_OLD_KEYS entry {position}"
            if not sep or not KEY_ID_PATTERN.fullmatch(old_id):
                raise ConfigError(f"{where} must be <key id>=<base64 key> with a key id of [A-Za-z0-9._-]")
            if old_id in seen_old:
                raise ConfigError(f"{where}: key id {old_id!r} is given more than once")
            seen_old.add(old_id)
            # the base64 value itself may end in '=' padding, so only the first '=' splits
            material = _decode_key(old_key, f"{where} ({old_id})")
            if old_id in keys and keys[old_id] != material:
                raise ConfigError(f"{where}: key id {old_id!r} is already the primary id with other key bytes")
            keys[old_id] = material
        return KeyRing(primary_id, keys, insecure, allow_plaintext)

    @staticmethod
    def from_env(env: Mapping[str, str] | None = None) -> "KeyRing":
        from noetl_pg.settings import bool_setting

        env = os.environ if env is None else env
        return KeyRing.from_settings(
            env.get("NOETL_ENCRYPTION_KEY"),
            (env.get("NOETL_ENCRYPTION_KEY_ID") or "v1").strip(),
            env.get("NOETL_ENCRYPTION_OLD_KEYS", ""),
            allow_insecure_default=bool_setting(env, "NOETL_ALLOW_INSECURE_DEFAULT_KEY", False),
            allow_plaintext=bool_setting(env, "NOETL_CREDENTIALS_ALLOW_PLAINTEXT", False),
        )

    def warn_if_insecure(self) -> None:
        if self.insecure:
            log.warning(
                "*** NOETL_ALLOW_INSECURE_DEFAULT_KEY is set: credentials are encrypted with a"
                " PUBLIC default key (id %r). Development only; set NOETL_ENCRYPTION_KEY. ***",
                INSECURE_KEY_ID,
            )

    def encrypt(self, data: Mapping[str, Any]) -> str:
        """The envelope of §7.3 for one JSON object, sealed under a fresh data key."""
        plaintext = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        dek = os.urandom(32)
        envelope = {
            "v": 1,
            "alg": "AES-256-GCM",
            "ct": _b64(_seal(dek, plaintext)),
            "dek": {"p": "local", "kid": _ENVELOPE_KID, "kv": self.primary_id,
                    "ct": _b64(_seal(self.keys[self.primary_id], dek))},
        }
        return json.dumps(envelope, separators=(",", ":"))

    def decrypt(self, stored: str) -> dict[str, Any]:
        envelope = self._envelope(stored)
        if envelope is None:  # a legacy plaintext object, allowed in migration mode only
            log.warning("returning a legacy plaintext credential; the next upsert re-encrypts it")
            return json.loads(stored)
        dek = self._unwrap(envelope)
        plaintext = _open(dek, _unb64(envelope.get("ct"), "ct"), "the data")
        try:
            data = json.loads(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise DecryptionError("decrypted data is not JSON") from None
        if not isinstance(data, dict):
            raise DecryptionError("decrypted data is not a JSON object")
        return data

    def key_id_of(self, stored: str) -> str | None:
        """The key id an envelope is wrapped with, without decrypting (None if not an envelope)."""
        try:
            envelope = json.loads(stored)
        except ValueError:
            return None
        dek = envelope.get("dek") if isinstance(envelope, dict) else None
        kv = dek.get("kv") if isinstance(dek, dict) else None
        return kv if isinstance(kv, str) else None

    def rewrap(self, stored: str) -> str | None:
        """The same envelope with its data key re-wrapped under the primary key, or None when it
        already uses the primary key. The data ciphertext is left untouched (§7.4)."""
        envelope = self._envelope(stored)
        if envelope is None:
            raise DecryptionError("not an envelope: legacy plaintext rows are re-encrypted by an upsert")
        if envelope["dek"].get("kv") == self.primary_id:
            return None
        dek = self._unwrap(envelope)
        envelope["dek"] = {**envelope["dek"], "kid": _ENVELOPE_KID, "kv": self.primary_id,
                           "ct": _b64(_seal(self.keys[self.primary_id], dek))}
        return json.dumps(envelope, separators=(",", ":"))

    def _envelope(self, stored: str) -> dict[str, Any] | None:
        try:
            value = json.loads(stored)
        except (TypeError, ValueError):
            raise DecryptionError("not an envelope: the stored value is not JSON") from None
        if not isinstance(value, dict):
            raise DecryptionError("not an envelope: the stored value is not a JSON object")
        if not {"v", "alg", "ct", "dek"} <= value.keys():
            if self.allow_plaintext and not value.keys() & {"v", "alg", "dek"}:
                return None
            raise DecryptionError(
                "not an envelope: a plaintext value (set NOETL_CREDENTIALS_ALLOW_PLAINTEXT=true"
                " to read legacy rows, then re-register the credential)"
            )
        dek = value["dek"]
        if value["v"] != 1 or value["alg"] != "AES-256-GCM" or not isinstance(dek, dict):
            raise DecryptionError("not an envelope: unsupported version or algorithm")
        if dek.get("p") == "gcp-kms":
            raise DecryptionError("key provider gcp-kms is not supported")
        if dek.get("p") != "local":
            raise DecryptionError(f"not an envelope: unknown key provider {dek.get('p')!r}")
        return value

    def _unwrap(self, envelope: Mapping[str, Any]) -> bytes:
        kv = envelope["dek"].get("kv")
        key = self.keys.get(kv) if isinstance(kv, str) else None
        if key is None:
            hint = "; re-register the credential" if kv == INSECURE_KEY_ID else ""
            raise DecryptionError(f"unknown key id {kv!r}{hint}")
        dek = _open(key, _unb64(envelope["dek"].get("ct"), "dek.ct"), f"the data key (key id {kv!r})")
        if len(dek) != 32:
            raise DecryptionError("not an envelope: the data key is not 32 bytes")
        return dek


def rewrap_all(dsn: str, keyring: KeyRing, *, say=print) -> tuple[int, int]:
    """`noetl-pg credentials rewrap` (§7.4): re-wrap every credential and keychain data key that
    is not under the primary key. Each update is conditional on the value read, so a concurrent
    write wins. Returns (rewrapped, skipped)."""
    import psycopg

    from noetl_pg.queries import Queries

    queries = Queries.load("credentials")
    rewrapped = skipped = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(queries.rewrap_candidates).fetchall()
        for source, key, stored in rows:
            try:
                new = keyring.rewrap(stored)
            except DecryptionError as exc:
                say(f"{source} {key}: cannot rewrap: {exc}")
                skipped += 1
                continue
            if new is None:
                continue
            query = queries.rewrap_credential if source == "credential" else queries.rewrap_keychain
            updated = conn.execute(query, {"key": key, "old": stored, "new": new}).rowcount
            if updated:
                rewrapped += 1
            else:
                say(f"{source} {key}: changed while rewrapping; left as written")
                skipped += 1
    say(f"rewrapped {rewrapped} envelope(s) to key id {keyring.primary_id!r}; {skipped} skipped")
    return rewrapped, skipped
