"""The README stays true: every config key is documented, and its first commands are the
ones CI and a newcomer run."""

from __future__ import annotations

import re

from pydantic import BaseModel

from blueprint.synth import REPO_ROOT
from components.config import NAMESPACE, StackConfig

README = (REPO_ROOT / "README.md").read_text()


def _documented_keys(model: type[BaseModel], prefix: str) -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys.extend(_documented_keys(annotation, f"{prefix}{field.alias}."))
        elif name == "region":
            keys.append("aws:region")
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
