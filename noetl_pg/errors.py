"""Errors a person can act on: each is printed as one line by the `noetl-pg` command."""


class UserError(Exception):
    """A problem the operator must fix (bad setting, missing binary, unreachable database).

    The command prints `noetl-pg: <message>` and exits non-zero, without a traceback.
    """


class ConfigError(UserError):
    """A setting that cannot be parsed or is out of range."""


class MigrationError(UserError):
    """A migration that cannot be applied, or an applied file that changed."""
