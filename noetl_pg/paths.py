"""Where the project's SQL lives: migrations/, functions/ and sql/ sit beside the packages."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = ROOT / "migrations"
FUNCTIONS_DIR = ROOT / "functions"
SQL_DIR = ROOT / "sql"
STATE_DIR = ROOT / ".noetl"
