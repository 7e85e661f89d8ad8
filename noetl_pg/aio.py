"""One way to run a long-lived process's event loop: uvloop where it is installed (it comes with
Sanic on Linux), the standard loop elsewhere. The worker and the bridge spend most of their CPU
in the loop's socket handling, which uvloop does in C."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
