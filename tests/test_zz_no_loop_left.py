"""Runs after the browser tests (alphabetically last): nothing may leave an event
loop running in the main thread, or every later asyncio.run() in the session fails."""

from __future__ import annotations

import asyncio
import os


def test_no_event_loop_is_left_running() -> None:
    async def one() -> int:
        return 1

    assert asyncio.run(one()) == 1
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
