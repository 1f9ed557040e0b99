"""Helpers the tests share (importable, unlike conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from blueprint import Project
from blueprint.mocks import ACCOUNT_ID
from components.common.context import StackContext
from components.common.conventions import Conventions

PROJECT = Project.load()
STACKS = PROJECT.stacks()


#: A pod that meets Pod Security Standards restricted: the starting point of the checker's tests
#: in the components and in the pack.
RESTRICTED_CONTAINER = {
    "name": "app",
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront:1.4.2",
    "ports": [{"containerPort": 8080}],
    "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]}},
}
RESTRICTED_POD = {
    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [RESTRICTED_CONTAINER],
    "volumes": [{"name": "tmp", "emptyDir": {}}, {"name": "creds", "secret": {"secretName": "db"}}],
}


def config_with(stack: str, **overrides: Any) -> dict[str, str]:
    """A stack's flat config with some keys replaced, values written as Pulumi writes them.

    ``network={"azCount": 4}`` merges into the stack's ``retail:network`` object;
    ``None`` removes a key.
    """
    config = PROJECT.stack_config(stack)
    for key, value in overrides.items():
        full_key = key if ":" in key else f"retail:{key}"
        if value is None:
            config.pop(full_key, None)
        elif isinstance(value, Mapping):
            current = json.loads(config.get(full_key, "{}"))
            config[full_key] = json.dumps({**current, **value})
        elif isinstance(value, list):
            config[full_key] = json.dumps(value)
        else:
            config[full_key] = str(value)
    return config


def stack_context(conventions: Conventions, region: str = "eu-west-1", account_id: str = ACCOUNT_ID,
                  partition: str = "aws", protect: bool = False) -> StackContext:
    """The stack context a component gets, for building one component alone under mocks."""
    return StackContext(conventions=conventions, region=region, account_id=account_id, partition=partition,
                        protect=protect)
