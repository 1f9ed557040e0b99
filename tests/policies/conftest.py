"""Factories for the policy-pack tests: snapshots, standard tags, one-policy runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from components.common.compliance import STATEFUL_TYPES
from components.common.conventions import MANAGED_BY
from policies.offline import PolicyReport, ResourceSnapshot, evaluate
from policies.registry import POLICIES

# `policies` and `components` import from the repo root: pyproject.toml's pytest
# `pythonpath = ["."]` puts it on sys.path, as __main__.py does for the real CLI.
REPO_ROOT = Path(__file__).resolve().parents[2]

Snap = Callable[..., ResourceSnapshot]


def _urn(type_: str, name: str) -> str:
    return f"urn:pulumi:test::retail::{type_}::{name}"


@pytest.fixture
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture
def snap() -> Snap:
    """``snap(type, name, props=None, **ResourceSnapshot fields)`` with a test URN.

    Stateful snapshots are Pulumi-protected unless told otherwise, as the blueprint's are in
    prod, so a "compliant" fixture is compliant with DATA.1 too.
    """

    def make(type_: str, name: str, props: Mapping[str, Any] | None = None, **kwargs: Any):
        kwargs.setdefault("protect", type_ in STATEFUL_TYPES)
        return ResourceSnapshot(
            urn=_urn(type_, name), type=type_, name=name, props=dict(props or {}), **kwargs
        )

    return make


@pytest.fixture
def tags() -> Callable[..., dict[str, str]]:
    """The standard tags of a dev stack; keyword overrides use ``_`` for ``-``."""

    def make(**overrides: str) -> dict[str, str]:
        base = {
            "environment": "dev",
            "owner": "platform",
            "cost-center": "cc-1234",
            "data-classification": "internal",
            "managed-by": MANAGED_BY,
            "stack": "dev",
        }
        base.update({key.replace("_", "-"): value for key, value in overrides.items()})
        return base

    return make


@pytest.fixture
def run_policy() -> Callable[..., PolicyReport]:
    """Evaluate one pack policy by name over some snapshots."""

    def run(
        name: str,
        snapshots: Sequence[ResourceSnapshot],
        config: Mapping[str, Any] | None = None,
    ) -> PolicyReport:
        [policy] = [p for p in POLICIES if p.name == name]
        return evaluate(snapshots, [policy], {name: config} if config is not None else None)

    return run
