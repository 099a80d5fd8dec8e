"""The web process freezes its start-up heap (see leitstand.core.heap)."""

from __future__ import annotations

import gc
import subprocess
import sys

from leitstand.core import heap


def test_settle_freezes_what_is_alive_and_leaves_new_objects_to_the_collector() -> None:
    # No gc.unfreeze() afterwards: it would thaw what the monitoring engine froze
    # earlier in this process too, and the engine freezes only once per process.
    heap.settle()
    frozen = gc.get_freeze_count()
    assert frozen > 10_000  # modules, URL patterns, views: everything loaded so far
    later = [[] for _ in range(1000)]
    assert gc.get_freeze_count() == frozen  # only what was alive at settle()
    assert any(gc.is_tracked(x) for x in later)


def test_the_wsgi_entry_point_settles_the_heap() -> None:
    code = "import gc, leitstand.wsgi; print(gc.get_freeze_count())"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert int(out.stdout.strip()) > 10_000
