"""NOETL_LOG_LEVEL: one setting for the level of the server, the bridge and the worker."""

from __future__ import annotations

import logging

import pytest

from bridge.logs import env_level
from noetl_pg.errors import ConfigError


def test_unset_or_empty_means_info() -> None:
    assert env_level({}) == logging.INFO
    assert env_level({"NOETL_LOG_LEVEL": ""}) == logging.INFO


@pytest.mark.parametrize("given, level", [("warning", logging.WARNING), (" ERROR ", logging.ERROR),
                                          ("Debug", logging.DEBUG), ("CRITICAL", logging.CRITICAL)])
def test_a_level_name_is_read_in_any_case(given: str, level: int) -> None:
    assert env_level({"NOETL_LOG_LEVEL": given}) == level


@pytest.mark.parametrize("given", ["verbose", "10", "WARN "])
def test_an_unknown_name_is_refused_with_the_value_and_the_choices(given: str) -> None:
    with pytest.raises(ConfigError) as raised:
        env_level({"NOETL_LOG_LEVEL": given})
    assert repr(given) in str(raised.value)
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in str(raised.value)
