"""The `noetl-pg` command: run the local stack, migrate databases, serve, bridge, worker."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from noetl_pg.errors import UserError

if TYPE_CHECKING:
    from noetl_pg.stack import Stack


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="noetl-pg", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    migrate = sub.add_parser("migrate", help="apply migrations and functions to the cluster and shard databases")
    migrate.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    migrate.add_argument("--status", action="store_true", help="list applied and pending files per database")
    migrate.add_argument("--dsn", help="migrate this one database instead of NOETL_CLUSTER_DSN / NOETL_SHARDS")
    migrate.add_argument("--role", choices=["shard", "cluster", "both"], help="role of --dsn (default both)")
    migrate.add_argument("--shard-index", type=int, default=None, help="shard index of --dsn (default 0)")
    migrate.add_argument("--shard-count", type=int, default=None, help="shard count of the deployment (default 1)")

    run = sub.add_parser("run", help="bring up the embedded local stack and stay in the foreground")
    run.add_argument("--shards", type=int, default=1, help="number of shard databases (default 1)")
    run.add_argument("--pg-port", type=int, default=None, help="PostgreSQL port (default: a free one)")
    run.add_argument("--nats-port", type=int, default=None, help="NATS port (default: a free one)")
    run.add_argument("--state-dir", default=None, help="where the stack keeps its data (default .noetl/)")
    run.add_argument("--no-wait", action="store_true", help="start, report, stop (for checks)")
    run.add_argument("--example", default=None,
                     help="catalog path of the example to run once the stack is up (default examples/hello_world)")
    run.add_argument("--databases-only", action="store_true",
                     help="PostgreSQL and NATS only: no server, bridge, worker or example")

    sub.add_parser("bridge", help="relay the shards' outbox rows to NATS JetStream (settings from the environment)")
    sub.add_parser("worker", help="run the reference worker (settings from the environment, worker-protocol §3.14)")

    serve = sub.add_parser("serve", help="run the HTTP server (settings from the environment, http-api §1.15)")
    serve.add_argument("--host", default=None, help="listen address (default NOETL_HOST or 0.0.0.0)")
    serve.add_argument("--port", type=int, default=None, help="listen port (default NOETL_PORT or 8082)")
    serve.add_argument("--workers", type=int, default=None, help="Sanic processes (default NOETL_SERVER_WORKERS or 1)")

    credentials = sub.add_parser("credentials", help="credential maintenance")
    credentials_sub = credentials.add_subparsers(dest="credentials_command", required=True)
    credentials_sub.add_parser("rewrap", help="re-wrap every credential and keychain key under the primary key")
    return parser


def _cmd_serve(args: argparse.Namespace) -> int:
    from sanic_app.serve import serve

    return serve(host=args.host, port=args.port, workers=args.workers)


def _cmd_credentials(args: argparse.Namespace) -> int:
    from noetl_pg.crypto import KeyRing, rewrap_all
    from noetl_pg.settings import Settings

    _, skipped = rewrap_all(Settings.from_env().database.cluster_dsn, KeyRing.from_env())
    return 1 if skipped else 0


def _cmd_migrate(args: argparse.Namespace) -> int:
    from noetl_pg.migrate import Migrator, Target, targets_from_config
    from noetl_pg.settings import Settings, int_setting
    from noetl_pg.dsn import parse_dsn

    if args.dsn:
        role = args.role or "both"
        count = args.shard_count if args.shard_count is not None else 1
        index = args.shard_index if args.shard_index is not None else (0 if role != "cluster" else None)
        if not 1 <= count <= 511:
            raise UserError(f"--shard-count must be in 1..511, got {count}")
        if role == "cluster" and args.shard_index is not None:
            raise UserError("--shard-index does not apply to --role cluster")
        if index is not None and not 0 <= index < count:
            raise UserError(f"--shard-index must be in 0..{count - 1}, got {index}")
        targets = [Target(parse_dsn(args.dsn), role != "shard", role != "cluster", index, count)]
        gate_keys = int_setting(os.environ, "NOETL_BRIDGE_GATE_KEYS", 1, low=1, high=1024)
    else:
        if args.role or args.shard_index is not None or args.shard_count is not None:
            raise UserError("--role, --shard-index and --shard-count need --dsn")
        settings = Settings.from_env()
        targets = targets_from_config(settings.database)
        gate_keys = settings.outbox_gate_keys
    migrator = Migrator(targets, outbox_gate_keys=gate_keys)
    if args.status:
        migrator.status()
    else:
        migrator.run(dry_run=args.dry_run)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from noetl_pg.stack import Stack

    if not 1 <= args.shards <= 511:
        raise UserError(f"--shards must be in 1..511, got {args.shards}")
    stack = Stack.for_run(state_dir=args.state_dir, shards=args.shards,
                          pg_port=args.pg_port, nats_port=args.nats_port)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        info = stack.start(processes=not args.databases_only)
        print(stack.describe(info), flush=True)
        if not args.databases_only and not stop.is_set():
            _run_example(stack, args.example)
        if not args.no_wait:
            print("running; press Ctrl-C to stop", flush=True)
            stop.wait()
    finally:
        print("stopping the local stack", flush=True)
        stack.stop()
    return 0


def _run_example(stack: "Stack", example: str | None) -> None:
    """Register examples/ (and the postgres example's credential), run one example to its
    terminal event and print what it produced."""
    import httpx

    from noetl_pg import examples

    assert stack.api_url is not None
    stack.pg.create_database(examples.EXAMPLES_DATABASE)
    try:
        with httpx.Client(base_url=stack.api_url, timeout=30) as client:
            examples.register_examples_credential(client, stack.pg.dsn(examples.EXAMPLES_DATABASE))
            paths = examples.register_examples(client)
            print(f"  registered         {', '.join(paths)}", flush=True)
            run = examples.run_example(client, stack.api_url, example or examples.DEFAULT_EXAMPLE)
    except httpx.HTTPError as exc:
        raise UserError(f"running the example against {stack.api_url} failed: {exc}") from None
    print(run.describe(), flush=True)
    print(f"  try another        curl -s -X POST {stack.api_url}/api/execute -H 'content-type: application/json'"
          f" -d '{{\"path\": \"examples/loop_and_join\"}}'", flush=True)
    print("", flush=True)


def _cmd_bridge(_args: argparse.Namespace) -> int:
    from bridge.app import run as run_bridge

    return run_bridge()


def _cmd_worker(_args: argparse.Namespace) -> int:
    from worker.app import run as run_worker

    return run_worker()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"migrate": _cmd_migrate, "run": _cmd_run, "serve": _cmd_serve, "credentials": _cmd_credentials, "bridge": _cmd_bridge,
                "worker": _cmd_worker}
    try:
        return handlers[args.command](args)
    except UserError as exc:
        print(f"noetl-pg: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
