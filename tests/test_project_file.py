"""Pulumi.yaml, checked the way the real CLI checks it, before the CLI ever sees it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from blueprint.synth import REPO_ROOT
from config.loader import NAMESPACE
from config.stack import StackConfig

# The CLI's own project schema, copied into the repository with its source (tests/schemas/README.md).
SCHEMA = REPO_ROOT / "tests" / "schemas" / "pulumi-project.schema.json"


@pytest.fixture(scope="module")
def project() -> dict:
    return yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA.read_text())


def test_pulumi_yaml_is_valid_for_the_cli(project, schema):
    jsonschema.validate(project, schema)


def test_the_schema_check_would_catch_an_object_typed_config_declaration(project, schema):
    broken = copy.deepcopy(project)
    broken["config"]["retail:network"] = {"type": "object"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_project_settings(project):
    assert project["name"] == "retail"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    assert (REPO_ROOT / project["stackConfigDir"]).is_dir()


def test_pulumi_new_prompts_for_region_environment_and_owner(project):
    prompts = project["template"]["config"]
    assert {"aws:region", "retail:environment", "retail:owner"} <= set(prompts)
    assert all(entry.get("description") for entry in prompts.values())


def test_the_template_prompts_for_every_required_key(project):
    from config.presets import PRESETS

    from_presets = set().union(*PRESETS.values())
    required = {f"{NAMESPACE}:{field.alias}" for name, field in StackConfig.model_fields.items()
                if field.is_required() and field.alias not in from_presets
                and name not in ("region", "data_classification")}
    # Sections come from the presets, dataClassification from the project default.
    assert required <= set(project["template"]["config"])


def test_project_config_declarations_are_documented(project):
    for key, declaration in project["config"].items():
        if isinstance(declaration, dict) and "type" in declaration:
            assert declaration.get("description"), key


def test_requirements_pin_compatible_ranges():
    lines = [line.strip() for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    names = {line.split(">")[0].split("<")[0].split("=")[0] for line in lines}
    assert {"pulumi", "pulumi-aws", "pulumi-kubernetes", "pydantic"} <= names
    assert all("<" in line for line in lines), "every runtime dependency has an upper bound"
    assert Path(REPO_ROOT / "requirements-dev.txt").read_text().startswith("#")
