"""The README stays true: every config key is documented, and its first commands are the
ones CI and a newcomer run."""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel

from blueprint.synth import REPO_ROOT
from config.loader import NAMESPACE
from config.stack import StackConfig

README = (REPO_ROOT / "README.md").read_text()


def _nested_model(annotation: object) -> type[BaseModel] | None:
    candidates = [annotation, *typing.get_args(annotation)]
    return next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)


def _documented_keys(model: type[BaseModel], prefix: str) -> list[str]:
    """Every key a stack file can set, as the reference table spells it: a model whose fields
    are all the same kind (the bucket purposes) is documented once as ``<purpose>``, list
    items as ``[]``, and the small objects inside list items (a key attribute) as one row."""
    keys = []
    fields = model.model_fields
    kinds = {field.annotation for field in fields.values()}
    if len(fields) > 1 and len(kinds) == 1 and _nested_model(next(iter(kinds))) is not None:
        keys.extend(f"{prefix}{field.alias}" for field in fields.values())
        return keys + _documented_keys(_nested_model(next(iter(kinds))), f"{prefix}<purpose>.")
    for name, field in fields.items():
        nested = _nested_model(field.annotation)
        is_list = typing.get_origin(field.annotation) is list
        if name == "region" and model is StackConfig:
            keys.append("aws:region")
        elif nested is not None and is_list:
            keys.append(f"{prefix}{field.alias}")
            keys.extend(_documented_keys(nested, f"{prefix}{field.alias}[]."))
        elif nested is not None and not prefix.endswith("[]."):
            keys.extend(_documented_keys(nested, f"{prefix}{field.alias}."))
        else:
            keys.append(f"{prefix}{field.alias}")
    return keys


def test_every_config_key_is_in_the_reference():
    keys = _documented_keys(StackConfig, f"{NAMESPACE}:")
    assert len(keys) >= 10
    missing = [key for key in keys if f"| `{key}` |" not in README]
    assert missing == []


def test_readme_opens_with_the_plan_and_test_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make plan STACK=prod", "make test"]


def test_ci_runs_the_readme_test_command():
    script = (REPO_ROOT / ".ci" / "run").read_text()
    assert script.strip().splitlines()[-1] == "make test"
