"""Parsing of the database environment (data-model §6.3): both DSN syntaxes, NOETL_SHARDS,
the single-database fallbacks and pool sizing."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from noetl_pg.dsn import (
    DatabaseConfig,
    database_config_from_env,
    describe_dsn,
    parse_dsn,
    parse_shards,
)
from noetl_pg.errors import ConfigError

KV0 = "host=pg-0;port=5432;user=noetl;password=secret;database=noetl_shard0"
KV1 = "host=pg-1;port=5433;user=noetl;password=secret;database=noetl_shard1"


def params(dsn: str) -> dict[str, str]:
    return {k: str(v) for k, v in conninfo_to_dict(dsn).items()}


def config_error(call, *args) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as raised:
        call(*args)
    message = str(raised.value)
    assert "\n" not in message, "a ConfigError is one line"
    return message


# key=value syntax


def test_key_value_entry_becomes_conninfo() -> None:
    assert params(parse_dsn(KV0)) == {
        "host": "pg-0",
        "port": "5432",
        "user": "noetl",
        "password": "secret",
        "dbname": "noetl_shard0",
    }


def test_key_value_defaults() -> None:
    assert params(parse_dsn("host=pg;user=u")) == {
        "host": "pg",
        "port": "5432",
        "user": "u",
        "dbname": "noetl",
    }


def test_key_value_pairs_in_any_order_with_dbname_alias() -> None:
    parsed = params(parse_dsn("dbname=other;user=u;port=6000;host=pg"))
    assert (parsed["dbname"], parsed["port"], parsed["host"]) == ("other", "6000", "pg")


def test_key_value_trims_keys_but_not_values() -> None:
    parsed = params(parse_dsn("host=pg ;  password= pass word ; user=u"))
    assert parsed["host"] == "pg "
    assert parsed["password"] == " pass word "


def test_key_value_tolerates_a_trailing_semicolon() -> None:
    assert parse_dsn("host=pg;user=u;") == parse_dsn("host=pg;user=u")


def test_key_value_password_may_contain_equals_and_quotes() -> None:
    assert params(parse_dsn("host=pg;user=u;password=a=b'c\\"))["password"] == "a=b'c\\"


def test_unknown_key_is_an_error() -> None:
    message = config_error(parse_dsn, "host=pg;user=u;hots=x")
    assert "unknown key 'hots'" in message


def test_pair_without_equals_is_an_error() -> None:
    message = config_error(parse_dsn, "host=pg;user")
    assert "pair 1" in message and "no '='" in message


def test_empty_pair_in_the_middle_is_an_error() -> None:
    assert "no '='" in config_error(parse_dsn, "host=pg;;user=u")


def test_non_numeric_port_is_an_error() -> None:
    assert "port must be an integer" in config_error(parse_dsn, "host=pg;user=u;port=54x2")


def test_port_out_of_range_is_an_error() -> None:
    assert "port must be an integer" in config_error(parse_dsn, "host=pg;user=u;port=70000")


def test_missing_host_is_an_error() -> None:
    assert "'host' is required" in config_error(parse_dsn, "user=u;database=d")


def test_missing_user_is_an_error() -> None:
    assert "'user' is required" in config_error(parse_dsn, "host=pg;database=d")


def test_repeated_key_is_an_error() -> None:
    assert "more than once" in config_error(parse_dsn, "host=pg;user=u;database=a;dbname=b")


def test_semicolon_inside_a_password_is_reported_without_echoing_it() -> None:
    message = config_error(parse_dsn, "host=pg;user=u;password=top;secret")
    assert "after 'password'" in message and "URI" in message
    assert "secret" not in message and "top" not in message


def test_error_names_where_the_dsn_came_from() -> None:
    assert config_error(lambda: parse_dsn("host=pg", where="NOETL_CLUSTER_DSN")).startswith(
        "NOETL_CLUSTER_DSN: "
    )


# URI syntax


def test_uri_entry_becomes_conninfo() -> None:
    parsed = params(parse_dsn("postgresql://noetl:secret@pg-0:5433/shard0?sslmode=require"))
    assert parsed == {
        "host": "pg-0",
        "port": "5433",
        "user": "noetl",
        "password": "secret",
        "dbname": "shard0",
        "sslmode": "require",
    }


def test_postgres_scheme_is_accepted() -> None:
    assert params(parse_dsn("postgres://u@pg/db"))["dbname"] == "db"


def test_uri_percent_encoded_comma_survives() -> None:
    assert params(parse_dsn("postgresql://u:pa%2Css@pg/db"))["password"] == "pa,ss"


def test_multi_host_uri_is_rejected() -> None:
    message = config_error(parse_dsn, "postgresql://u@pg-a:5432,pg-b:5432/db")
    assert "multi-host" in message


def test_invalid_uri_is_rejected_without_its_password() -> None:
    message = config_error(parse_dsn, "postgresql://u:hunter%zz2@pg/db")
    assert "not a valid PostgreSQL URI" in message
    assert "hunter" not in message


def test_uri_with_unknown_parameter_is_rejected() -> None:
    assert "not a valid PostgreSQL URI" in config_error(parse_dsn, "postgresql://u@pg/db?nosuch=1")


def test_empty_dsn_is_an_error() -> None:
    assert "empty" in config_error(parse_dsn, "   ")


# NOETL_SHARDS


def test_shards_in_order() -> None:
    shards = parse_shards(f"{KV0},{KV1}")
    assert [params(s)["dbname"] for s in shards] == ["noetl_shard0", "noetl_shard1"]


def test_shards_mix_both_syntaxes_and_trim_whitespace() -> None:
    shards = parse_shards(f"  {KV0} ,\n postgresql://u:p%2Cw@pg-1/s1  ")
    assert params(shards[0])["host"] == "pg-0"
    assert params(shards[1])["password"] == "p,w"


def test_shards_tolerate_one_trailing_comma() -> None:
    assert parse_shards(f"{KV0},{KV1},") == parse_shards(f"{KV0},{KV1}")


def test_shards_reject_two_trailing_commas() -> None:
    assert "entry 2 is empty" in config_error(parse_shards, f"{KV0},{KV1},,")


def test_shards_reject_an_empty_entry_between_two_entries() -> None:
    message = config_error(parse_shards, f"{KV0}, ,{KV1}")
    assert "NOETL_SHARDS entry 1 is empty" in message


def test_shards_reject_a_leading_empty_entry() -> None:
    assert "entry 0 is empty" in config_error(parse_shards, f",{KV0}")


def test_blank_shards_value_means_none_configured() -> None:
    assert parse_shards("  ") == []


def test_shard_parse_error_names_the_entry_index() -> None:
    message = config_error(parse_shards, f"{KV0},host=pg-1;user=u;port=x")
    assert message.startswith("NOETL_SHARDS entry 1 (shard 1): port must be an integer")


def test_511_shards_are_allowed() -> None:
    value = ",".join(f"host=pg;user=u;database=s{i}" for i in range(511))
    assert len(parse_shards(value)) == 511


def test_512_shards_are_rejected() -> None:
    value = ",".join(f"host=pg;user=u;database=s{i}" for i in range(512))
    assert "at most 511" in config_error(parse_shards, value)


def test_two_entries_naming_one_database_are_rejected() -> None:
    message = config_error(parse_shards, f"{KV0},postgresql://other@pg-0:5432/noetl_shard0")
    assert "entries 0 and 1" in message and "pg-0:5432/noetl_shard0" in message


def test_shard_errors_never_echo_a_password() -> None:
    message = config_error(parse_shards, "host=pg;user=u;password=s3cr3t;port=x")
    assert "s3cr3t" not in message


# database_config_from_env


def test_shards_with_separate_cluster() -> None:
    config = database_config_from_env(
        {"NOETL_SHARDS": f"{KV0},{KV1}", "NOETL_CLUSTER_DSN": "postgresql://u@pg-c/cluster"}
    )
    assert params(config.cluster_dsn)["dbname"] == "cluster"
    assert config.shard_count == 2
    assert isinstance(config.shard_dsns, tuple)


def test_shards_without_cluster_dsn_use_shard_0_as_cluster() -> None:
    config = database_config_from_env({"NOETL_SHARDS": f"{KV0},{KV1}", "NOETL_CLUSTER_DSN": " "})
    assert config.cluster_dsn == config.shard_dsns[0]


def test_bad_cluster_dsn_is_fatal_even_with_shards() -> None:
    message = config_error(
        database_config_from_env, {"NOETL_SHARDS": KV0, "NOETL_CLUSTER_DSN": "host=pg"}
    )
    assert message.startswith("NOETL_CLUSTER_DSN: ")


def test_bad_shards_never_fall_back_to_single_database() -> None:
    env = {"NOETL_SHARDS": "host=pg;user=u;port=x", "POSTGRES_HOST": "pg"}
    assert "NOETL_SHARDS entry 0" in config_error(database_config_from_env, env)


def test_single_database_from_cluster_dsn() -> None:
    config = database_config_from_env({"NOETL_CLUSTER_DSN": KV0, "POSTGRES_HOST": "ignored"})
    assert config.shard_dsns == (config.cluster_dsn,)
    assert params(config.cluster_dsn)["host"] == "pg-0"


def test_single_database_defaults() -> None:
    config = database_config_from_env({})
    assert params(config.cluster_dsn) == {
        "host": "localhost",
        "port": "5432",
        "user": "noetl",
        "dbname": "noetl",
    }
    assert config.shard_dsns == (config.cluster_dsn,)


def test_single_database_from_postgres_variables() -> None:
    env = {
        "POSTGRES_HOST": "db",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "app",
        "POSTGRES_PASSWORD": "pw with space",
        "POSTGRES_DATABASE": "main",
        "POSTGRES_DB": "ignored",
        "NOETL_USER": "ignored",
        "NOETL_PASSWORD": "ignored",
    }
    assert params(database_config_from_env(env).cluster_dsn) == {
        "host": "db",
        "port": "6543",
        "user": "app",
        "password": "pw with space",
        "dbname": "main",
    }


def test_single_database_python_era_fallbacks() -> None:
    env = {
        "POSTGRES_DB": "from_postgres_db",
        "NOETL_POSTGRES_DB": "ignored",
        "NOETL_USER": "legacy",
        "NOETL_PASSWORD": "legacy-pw",
    }
    parsed = params(database_config_from_env(env).cluster_dsn)
    assert (parsed["dbname"], parsed["user"], parsed["password"]) == (
        "from_postgres_db",
        "legacy",
        "legacy-pw",
    )


def test_noetl_postgres_db_is_the_last_database_fallback() -> None:
    parsed = params(database_config_from_env({"NOETL_POSTGRES_DB": "legacy_db"}).cluster_dsn)
    assert parsed["dbname"] == "legacy_db"


def test_single_database_bad_port_is_an_error() -> None:
    message = config_error(database_config_from_env, {"POSTGRES_PORT": "five"})
    assert "POSTGRES_PORT" in message and "'five'" in message


def test_pool_sizing_defaults() -> None:
    config = database_config_from_env({})
    assert (config.min_size, config.max_size, config.acquire_timeout) == (1, 10, 5.0)


def test_pool_sizing_variables() -> None:
    config = database_config_from_env(
        {
            "POSTGRES_MIN_CONNECTIONS": "2",
            "POSTGRES_MAX_CONNECTIONS": "20",
            "NOETL_DB_ACQUIRE_TIMEOUT_SECONDS": "2.5",
            "POSTGRES_ACQUIRE_TIMEOUT": "99",
        }
    )
    assert (config.min_size, config.max_size, config.acquire_timeout) == (2, 20, 2.5)


def test_acquire_timeout_fallback_name() -> None:
    assert database_config_from_env({"POSTGRES_ACQUIRE_TIMEOUT": "7"}).acquire_timeout == 7.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("POSTGRES_MAX_CONNECTIONS", "ten"),
        ("POSTGRES_MAX_CONNECTIONS", "0"),
        ("POSTGRES_MIN_CONNECTIONS", "-1"),
        ("NOETL_DB_ACQUIRE_TIMEOUT_SECONDS", "soon"),
        ("NOETL_DB_ACQUIRE_TIMEOUT_SECONDS", "0"),
        ("NOETL_DB_ACQUIRE_TIMEOUT_SECONDS", "inf"),
        ("POSTGRES_ACQUIRE_TIMEOUT", "-3"),
    ],
)
def test_bad_pool_setting_names_the_variable(name: str, value: str) -> None:
    message = config_error(database_config_from_env, {name: value})
    assert name in message and repr(value) in message


def test_min_connections_above_max_is_an_error() -> None:
    message = config_error(
        database_config_from_env,
        {"POSTGRES_MIN_CONNECTIONS": "5", "POSTGRES_MAX_CONNECTIONS": "4"},
    )
    assert "POSTGRES_MIN_CONNECTIONS" in message and "POSTGRES_MAX_CONNECTIONS" in message


def test_database_config_is_frozen() -> None:
    config = DatabaseConfig(cluster_dsn="host=a", shard_dsns=("host=a",))
    with pytest.raises(AttributeError):
        config.max_size = 3  # type: ignore[misc]


# describe_dsn


def test_describe_dsn_omits_credentials() -> None:
    assert describe_dsn(parse_dsn(KV1)) == "pg-1:5433/noetl_shard1"


def test_describe_dsn_fills_libpq_defaults() -> None:
    assert describe_dsn("host=pg user=app") == "pg:5432/app"


def test_describe_dsn_of_garbage_does_not_echo_it() -> None:
    assert describe_dsn("postgresql://u:s3cret%zz@pg/db") == "<unparseable DSN>"
