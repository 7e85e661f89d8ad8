"""The notification built from an outbox row (worker-protocol §1.2, §1.3), the requeue sweep's
decisions (§2.9) and the bridge settings (§2.12), without a database or NATS."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bridge.message import Malformed, OutboxRow, build
from bridge.settings import BridgeSettings, normalise_server_url
from bridge.sweep import StaleCommand, requeue_reason
from noetl_pg.errors import ConfigError

E, V = 320816801799737344, 320816801822801920


def row(payload, *, subject: str | None = f"noetl.commands.shared.{E}", codec: str = "json") -> OutboxRow:
    return OutboxRow(outbox_id=1, event_id=V, execution_id=E, subject=subject, payload=payload,
                     payload_codec=codec, attempts=1, msg_id=str(V))


GOOD = {"execution_id": E, "event_id": V, "command_id": f"{E}:start:{V}", "step": "start",
        "server_url": "http://127.0.0.1:8082"}


def test_body_is_the_five_keys_in_order_compact() -> None:
    message = build(row(dict(reversed(list(GOOD.items())))), "http://fallback")
    assert message.body == (f'{{"execution_id":{E},"event_id":{V},"command_id":"{E}:start:{V}",'
                            f'"step":"start","server_url":"http://127.0.0.1:8082"}}').encode()
    assert message.headers == {"Nats-Msg-Id": str(V)}
    assert message.subject == f"noetl.commands.shared.{E}"


def test_extra_payload_keys_are_dropped() -> None:
    assert b"extra" not in build(row(GOOD | {"extra": 1}), "http://f").body


@pytest.mark.parametrize("given, sent", [
    ("http://h:1/api/", "http://h:1"), ("http://h:1/", "http://h:1"), ("", "http://fallback"),
    (None, "http://fallback"),
])
def test_server_url_is_normalised_or_filled_in(given, sent) -> None:
    payload = GOOD | {"server_url": given}
    assert f'"server_url":"{sent}"'.encode() in build(row(payload), "http://fallback").body


def test_a_null_subject_routes_to_the_shared_pool() -> None:
    assert build(row(GOOD, subject=None), "x").subject == f"noetl.commands.shared.{E}"


@pytest.mark.parametrize("payload, codec, subject", [
    ({k: v for k, v in GOOD.items() if k != "command_id"}, "json", f"noetl.commands.shared.{E}"),
    (GOOD | {"step": 3}, "json", f"noetl.commands.shared.{E}"),
    (GOOD | {"event_id": "12"}, "json", f"noetl.commands.shared.{E}"),
    (GOOD | {"execution_id": E + 1}, "json", f"noetl.commands.shared.{E}"),
    ([1, 2], "json", f"noetl.commands.shared.{E}"),
    ("{not json", "json", f"noetl.commands.shared.{E}"),
    (GOOD, "arrow-feather", f"noetl.commands.shared.{E}"),
    (GOOD, "json", "other.subject"),
    (GOOD, "json", "noetl.commands.shared.*"),
])
def test_rows_that_can_never_be_published_are_malformed(payload, codec, subject) -> None:
    with pytest.raises(Malformed):
        build(row(payload, codec=codec, subject=subject), "x")


def test_normalise_server_url() -> None:
    assert normalise_server_url(" http://a/api/ ") == "http://a"


def _settings(**kw) -> BridgeSettings:
    return BridgeSettings.from_env({"NOETL_SHARDS": "postgresql://u@h:5432/d", **kw})


def test_settings_defaults_and_validation() -> None:
    s = _settings()
    assert (s.batch, s.lease_seconds, s.linger_ms, s.park_retry_ms, s.max_backoff_seconds) == (256, 60, 250, 80, 30)
    assert s.http_bind == ("127.0.0.1", 8085) and s.pools == ("shared", "system")
    assert _settings(NATS_URL="nats://n:1", NATS_USER="u", NATS_PASSWORD="p w").nats_url == "nats://u:p%20w@n:1"
    assert _settings(NOETL_BRIDGE_HTTP_BIND="").http_bind is None
    with pytest.raises(ConfigError):
        _settings(NOETL_OUTBOX_LEASE_SECONDS="10")  # must exceed 3 x the publish timeout
    with pytest.raises(ConfigError):
        _settings(NOETL_BRIDGE_SHARDS="0,1").served_shards()


NOW = datetime(2026, 6, 4, 12, 0, tzinfo=timezone.utc)


def cmd(status: str, *, idle: float = 0, worker: str | None = "w1", outbox: str | None = "PUBLISHED",
        published_ago: float | None = 600, republished: int = 0, timeout: int | None = None) -> StaleCommand:
    at = NOW - timedelta(seconds=idle)
    return StaleCommand(1, 2, status, worker, at, None, at, timeout, outbox,
                        None if published_ago is None else NOW - timedelta(seconds=published_ago),
                        republished, NOW)


LIVE = frozenset({"w1"})


@pytest.mark.parametrize("command, live, guard, reason", [
    (cmd("CLAIMED", idle=61), LIVE, True, "claim_not_started"),
    (cmd("CLAIMED", idle=59), LIVE, True, None),
    (cmd("RUNNING", idle=61), LIVE, True, None),
    (cmd("RUNNING", idle=61, worker="gone"), LIVE, True, "holder_offline"),
    (cmd("RUNNING", idle=1801), LIVE, True, "hard_timeout"),
    (cmd("RUNNING", idle=1801, timeout=3600), LIVE, True, None),
    (cmd("RUNNING", idle=61, worker="gone"), LIVE, False, None),   # outage guard closed
    (cmd("CLAIMED", idle=600), None, True, None),                  # liveness unknown
    (cmd("PENDING", published_ago=61), None, False, "unclaimed"),  # step 4 is not guarded
    (cmd("PENDING", published_ago=59), None, False, None),
    (cmd("PENDING", published_ago=119, republished=1), None, False, None),
    (cmd("PENDING", published_ago=901, republished=9), None, False, "unclaimed"),
    (cmd("PENDING", outbox=None, published_ago=None), None, False, "unclaimed"),  # purged
    (cmd("PENDING", outbox="FAILED"), None, False, None),
    (cmd("PENDING", outbox="IN_FLIGHT"), None, False, None),
])
def test_requeue_decisions(command, live, guard, reason) -> None:
    assert requeue_reason(command, live, guard, _settings()) == reason
