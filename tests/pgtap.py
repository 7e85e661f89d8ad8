"""Runs one pgTAP file through psql and judges its TAP output."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

_REQUIRES = re.compile(r"^--\s*requires:\s*(both|cluster|shard)\s*$")
_PLAN = re.compile(r"^1\.\.(\d+)")
_RESULT = re.compile(r"^(not )?ok (\d+)\b(.*)$")


def required_role(path: Path) -> str:
    """The database role a pgTAP file declares on its first line (`-- requires: shard`)."""
    first = path.read_text().splitlines()[:1]
    match = _REQUIRES.match(first[0].strip()) if first else None
    if not match:
        raise ValueError(f"{path}: first line must be '-- requires: both|cluster|shard'")
    return match.group(1)


@dataclass
class TapReport:
    planned: int | None = None
    passed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    output: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        ran = len(self.passed) + len(self.failed)
        return not self.error and self.planned is not None and not self.failed and ran == self.planned

    def explain(self) -> str:
        problems = []
        if self.error:
            problems.append(f"psql error: {self.error}")
        if self.planned is None:
            problems.append("no plan line (1..N) in the output")
        elif len(self.passed) + len(self.failed) != self.planned:
            problems.append(f"planned {self.planned} tests, ran {len(self.passed) + len(self.failed)}")
        if self.failed:
            problems.append(f"failed tests: {', '.join(map(str, self.failed))}")
        return "; ".join(problems) + "\n--- TAP output ---\n" + self.output


def parse_tap(output: str) -> TapReport:
    report = TapReport(output=output)
    for line in output.splitlines():
        line = line.strip()
        if (plan := _PLAN.match(line)) and report.planned is None:
            report.planned = int(plan.group(1))
        elif result := _RESULT.match(line):
            is_todo = "# TODO" in result.group(3)
            (report.failed if result.group(1) and not is_todo else report.passed).append(int(result.group(2)))
    return report


def run_pgtap(psql: Path, dsn: str, path: Path) -> TapReport:
    proc = subprocess.run(
        [str(psql), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", dsn, "-f", str(path)],
        capture_output=True, text=True, timeout=600,
    )
    report = parse_tap(proc.stdout)
    if proc.returncode != 0:
        report.error = proc.stderr.strip() or f"psql exited {proc.returncode}"
    return report
