"""NOETL_LOG_LEVEL: one setting for the level of the server, the bridge and the worker."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from noetl_pg.errors import ConfigError
from noetl_pg.settings import log_level


def test_unset_or_empty_means_info() -> None:
    assert log_level({}) == logging.INFO
    assert log_level({"NOETL_LOG_LEVEL": ""}) == logging.INFO


@pytest.mark.parametrize("given, level", [("warning", logging.WARNING), (" ERROR ", logging.ERROR),
                                          ("Debug", logging.DEBUG), ("CRITICAL", logging.CRITICAL)])
def test_a_level_name_is_read_in_any_case(given: str, level: int) -> None:
    assert log_level({"NOETL_LOG_LEVEL": given}) == level


@pytest.mark.parametrize("given", ["verbose", "10", "WARN "])
def test_an_unknown_name_is_refused_with_the_value_and_the_choices(given: str) -> None:
    with pytest.raises(ConfigError) as raised:
        log_level({"NOETL_LOG_LEVEL": given})
    assert repr(given) in str(raised.value)
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in str(raised.value)


@pytest.mark.parametrize("command", ["worker", "bridge"])
def test_a_process_started_with_an_unknown_level_exits_with_one_line_naming_it(command: str) -> None:
    env = dict(os.environ, NOETL_LOG_LEVEL="verbose")
    done = subprocess.run([sys.executable, "-m", "noetl_pg.cli", command], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == ("noetl-pg: NOETL_LOG_LEVEL='verbose': expected one of "
                                   "DEBUG, INFO, WARNING, ERROR, CRITICAL")
