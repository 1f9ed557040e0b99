"""Entry point the Pulumi CLI runs (``python __main__.py`` with cwd=policies/).

Constructing PolicyPack starts the gRPC server the engine talks to and blocks forever, so
this file does nothing else and nothing may import it: tests and the offline checker use
``policies.registry.POLICIES`` and ``policies.offline.evaluate`` instead.
"""

import sys
from pathlib import Path

# The CLI puts only policies/ on sys.path; the pack imports `policies.*` and
# `components.common.conventions` (one source of truth for the standard tags) from the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.registry import POLICIES

PolicyPack(
    name="retail-baseline",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
