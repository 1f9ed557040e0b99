"""An error raised while the regions are built reaches the user: it never leaves the
primary's replication targets (deferred outputs) unresolved, which would keep the SDK
waiting for ever (``pulumi up`` hangs without a word)."""

from __future__ import annotations

import threading

import pytest

from blueprint import synthesize
from components.data import sql_secondary


def test_an_error_in_the_dr_slice_is_reported_not_a_hang(monkeypatch):
    def broken(*_args, **_kwargs):
        raise ValueError("the DR database cannot be built")

    monkeypatch.setattr(sql_secondary.SqlSecondary, "__init__", broken)
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            synthesize("prod")
            outcome.append(None)
        except BaseException as error:
            outcome.append(error)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=120)
    if worker.is_alive():
        pytest.fail("synthesis hung after an error in the DR slice")
    assert outcome and outcome[0] is not None
    assert "the DR database cannot be built" in str(outcome[0])
