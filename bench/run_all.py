"""`make bench`: runs every bench/bench_*.py script in name order, each in its own process."""

from __future__ import annotations

import subprocess
import sys

from bench.common import BENCH_DIR


def main() -> int:
    failed = []
    for script in sorted(BENCH_DIR.glob("bench_*.py")):
        module = f"bench.{script.stem}"
        print(f"== {module}", flush=True)
        if subprocess.run([sys.executable, "-m", module], cwd=BENCH_DIR.parent).returncode != 0:
            failed.append(module)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
