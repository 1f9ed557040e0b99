"""Offline tooling: synthesize a stack under Pulumi's mock runtime, report its plan, check it.

``synthesize(stack)`` runs the real program; ``python -m blueprint plan <stack>`` prints it.
"""

from blueprint.graph import Resource, ResourceGraph
from blueprint.synth import Project, StackNotFoundError, synthesize

__version__ = "0.4.0"
"""The offline tooling's version, as ``python -m blueprint --version`` prints it."""

__all__ = ["Project", "Resource", "ResourceGraph", "StackNotFoundError", "__version__", "synthesize"]
