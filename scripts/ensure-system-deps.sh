#!/usr/bin/env bash
# Makes sure the machine has what the venv cannot provide: Python >= 3.11, PostgreSQL >= 15
# server binaries and pgTAP for that PostgreSQL. As root it installs Debian's packages when
# missing; otherwise it stops with one line saying exactly what to install.
set -euo pipefail

need_pgtap=${NEED_PGTAP:-1}

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "noetl-pg needs Python >= 3.11 as python3 (found $(python3 --version 2>&1))" >&2; exit 1; }

pg_bindir() {
  local d
  for d in ${NOETL_PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n -r); do
    if [ -x "$d/postgres" ] && [ -x "$d/initdb" ]; then
      local major
      major=$("$d/postgres" --version | sed -E 's/[^0-9]*([0-9]+).*/\1/')
      if [ "$major" -ge 15 ]; then echo "$d $major"; return 0; fi
    fi
  done
  return 1
}

apt_install() {
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing: $1 — install it (Debian: apt-get install $2) and run make again" >&2
    exit 1
  fi
  echo "installing $2 with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || true
  apt-get install -y -qq $2 >/dev/null
}

if ! found=$(pg_bindir); then
  apt_install "PostgreSQL >= 15 server binaries" "postgresql"
  found=$(pg_bindir) || { echo "PostgreSQL >= 15 still not found after installing 'postgresql'" >&2; exit 1; }
fi
major=${found##* }

if [ "$need_pgtap" = 1 ]; then
  if ! ls /usr/share/postgresql/"$major"/extension/pgtap.control >/dev/null 2>&1; then
    apt_install "pgTAP for PostgreSQL $major" "postgresql-$major-pgtap"
    ls /usr/share/postgresql/"$major"/extension/pgtap.control >/dev/null 2>&1 || {
      echo "pgTAP still missing after installing postgresql-$major-pgtap" >&2; exit 1; }
  fi
fi
