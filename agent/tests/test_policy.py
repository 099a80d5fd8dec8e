"""The server's policy answer, parsed as untrusted input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from leitstand_agent.policy import PolicyError, parse_policy
from leitstand_agent.rules.process_policy import ProcessException, ProcessPolicy
from leitstand_agent.rules.restart_policy import RestartPolicy

CLOUDFLUX = {
    "process_policy": {
        "max_runtime_s": 7200,
        "max_rss": 2147483648,
        "exceptions": [{"command": "pg_dump", "max_runtime_s": 21600, "max_rss": None}],
        "prohibited": ["minerd", "xmrig"],
    },
    "restart_policy": {"silence_s": 120, "max_consecutive": 3},
}


def test_a_full_answer() -> None:
    process, restart = parse_policy(CLOUDFLUX)
    assert process == ProcessPolicy(
        max_runtime=timedelta(hours=2),
        max_rss=2 * 1024**3,
        exceptions=(ProcessException("pg_dump", max_runtime=timedelta(hours=6)),),
        prohibited=frozenset({"xmrig", "minerd"}),
    )
    assert restart == RestartPolicy(silence=timedelta(seconds=120), max_consecutive=3)


def test_no_policy_on_the_contract() -> None:
    assert parse_policy({"process_policy": None, "restart_policy": None}) == (None, None)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "expected a JSON object"),
        ({"process_policy": "strict"}, "process_policy: expected an object"),
        ({"process_policy": {"max_runtime_s": -5}}, "max_runtime_s: expected a positive"),
        ({"process_policy": {"max_rss": "2GiB"}}, "max_rss: expected a positive"),
        ({"process_policy": {"exceptions": [{"max_runtime_s": 5}]}}, "with a command"),
        ({"process_policy": {"prohibited": "xmrig"}}, "expected a list of names"),
        ({"restart_policy": {"silence_s": 120}}, "needs silence_s and max_consecutive"),
        (
            {"restart_policy": {"silence_s": True, "max_consecutive": 3}},
            "silence_s: expected a positive",
        ),
    ],
)
def test_malformed_answers_are_refused_whole(answer: Any, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(answer)
