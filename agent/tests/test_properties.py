"""Properties over generated input: names in /proc/<pid>/stat, path containment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leitstand_agent.actions import Rejected, contained_path
from leitstand_agent.collect import parse_proc_stat

TAIL = "S 1 2 3 0 -1 0 0 0 0 0 7 8 0 0 20 0 1 0 555 1 66 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"


@given(
    st.text(alphabet=st.characters(blacklist_characters="\n\x00"), max_size=15),
    st.integers(1, 2**22),
)
def test_any_command_name_survives_parsing(name: str, pid: int) -> None:
    # A process chooses its own name: "x) S 1 (" must not shift the fields.
    stat = parse_proc_stat(f"{pid} ({name}) {TAIL}\n")
    assert (stat.pid, stat.name, stat.ppid, stat.cpu_ticks, stat.start_ticks, stat.rss_pages) == (
        pid,
        name,
        1,
        15,
        555,
        66,
    )


COMPONENTS = st.lists(st.sampled_from(["a", "b", "..", ".", "up", "loop", "deep"]), max_size=6)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """logs/{a,b,deep/a}, logs/up -> .., logs/loop -> logs, and a secret dir outside."""
    base = tmp_path_factory.mktemp("paths")
    (base / "logs" / "a").mkdir(parents=True)
    (base / "logs" / "b").mkdir()
    (base / "logs" / "deep" / "a").mkdir(parents=True)
    (base / "secret").mkdir()
    (base / "logs" / "up").symlink_to("..")
    (base / "logs" / "loop").symlink_to(base / "logs")
    return base


@settings(max_examples=200, deadline=None)
@given(components=COMPONENTS)
def test_contained_path_never_leaves_the_root(tree: Path, components: list[str]) -> None:
    raw = "/".join([str(tree / "logs"), *components])
    try:
        resolved = contained_path(raw, (tree / "logs",), "directory")
    except Rejected:
        assert ".." in components or "up" in components
        return
    real_root = Path(os.path.realpath(tree / "logs"))
    assert resolved == real_root or resolved.is_relative_to(real_root)
