"""Shared fixtures: synthesized stacks, cached for the session (synthesis is deterministic)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import pytest

from blueprint import ResourceGraph, synthesize
from tests.support import STACKS, config_with


@cache
def _graph(stack: str) -> ResourceGraph:
    return synthesize(stack)


@pytest.fixture(params=STACKS)
def stack_graph(request) -> ResourceGraph:
    """Each stack file's graph, one test per stack."""
    return _graph(request.param)


@pytest.fixture
def graph_of() -> Callable[[str], ResourceGraph]:
    return _graph


@pytest.fixture
def synth_with() -> Callable[..., ResourceGraph]:
    def build(stack: str, **overrides: Any) -> ResourceGraph:
        return synthesize(stack, config=config_with(stack, **overrides))
    return build
