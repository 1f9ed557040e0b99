"""Pulumi.yaml, checked the way the real CLI checks it, before the CLI ever sees it.

The project file must hold under any project name: `pulumi new <this repository>` copies the
files, loads Pulumi.yaml under the name written in it, renames the project to what its user
types, drops `template:`, adds a `pulumi:tags` value naming the template, and saves the file,
asserting on save that the project passes its checks under the new name
(pkg/cmd/pulumi/project/newcmd/new.go; sdk/go/common/workspace/project.go, Project.Save).
Every later command loads the saved file under the new name.

The CLI checks a project file in two steps (sdk/go/common/workspace/loaders.go,
LoadProjectBytes): the JSON schema (tests/schemas, the CLI's own), then, after rewriting
shorthand values, rules the schema cannot express (Project.Validate). `cli_load` replays both.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import jsonschema
import pytest
import yaml

from blueprint import Project, synthesize
from blueprint.synth import REPO_ROOT
from config.loader import NAMESPACE
from config.stack import StackConfig

# The CLI's own project schema, copied into the repository with its source (tests/schemas/README.md).
SCHEMA = REPO_ROOT / "tests" / "schemas" / "pulumi-project.schema.json"
PROJECT_FILE = (REPO_ROOT / "Pulumi.yaml").read_text()
# Names a team might give its project; `retail` is the template's own.
NAMES = ["shop", "acme-retail", "retail"]
FORK = "https://github.com/acme/retail-platform"


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(SCHEMA.read_text())


@pytest.fixture(scope="module")
def project() -> dict:
    return yaml.safe_load(PROJECT_FILE)


# --- The CLI's checks, transcribed from sdk/go/common/workspace/project.go --------------------

def namespaced_by_project(project_name: str, key: str) -> bool:
    """configKeyIsNamespacedByProject: a bare key, or one prefixed with the project's name."""
    return ":" not in key or key.startswith(f"{project_name}:")


def rewrite_shorthand(project: dict[str, Any]) -> dict[str, Any]:
    """RewriteShorthandConfigValues: a plain value becomes a `default` for a key of the project's
    own namespace and a `value` for any other key, judged by the name in the file being loaded."""
    rewritten = copy.deepcopy(project)
    config = rewritten.get("config")
    if isinstance(config, dict):
        for key, value in config.items():
            if isinstance(value, (str, int, bool, list)):
                config[key] = {"default" if namespaced_by_project(rewritten["name"], key) else "value": value}
    return rewritten


def cli_rule_violations(project: dict[str, Any]) -> list[str]:
    """Project.Validate's config rules, each message as the CLI words it (it stops at the first)."""
    problems: list[str] = []
    for key, declaration in (project.get("config") or {}).items():
        has_default = declaration.get("default") is not None
        has_value = declaration.get("value") is not None
        if has_default and has_value:
            problems.append(f"project config '{key}' cannot have both a 'default' and 'value' attribute")
        if namespaced_by_project(project["name"], key):
            if declaration.get("type") == "array" and "items" not in declaration:
                problems.append(f"The configuration key '{key}' declares an array "
                                "but does not specify the underlying type via the 'items' attribute")
            continue
        # "when not namespaced by project, there shouldn't be a type, only a value"
        if "type" in declaration:
            problems.append(f"Configuration key '{key}' is not namespaced by the project and should not define a type")
        if has_default:
            problems.append(f"Configuration key '{key}' is not namespaced by the project and should not define "
                            "a default value. Did you mean to use the 'value' attribute instead of 'default'?")
        if not has_value:
            problems.append(f"Configuration key '{key}' is namespaced and must provide an attribute 'value'")
    return problems


class CliRefusalError(Exception):
    pass


def cli_load(text: str, schema: dict) -> dict[str, Any]:
    """LoadProjectBytes: the schema on the file as written, then the rules on the rewritten project."""
    raw = yaml.safe_load(text)
    jsonschema.validate(raw, schema)
    project = rewrite_shorthand(raw)
    if problems := cli_rule_violations(project):
        raise CliRefusalError("; ".join(problems))
    return project


def pulumi_new(text: str, name: str, schema: dict) -> str:
    """What `pulumi new` makes of the project file: the Pulumi.yaml its user gets."""
    project = cli_load(text, schema)  # loaded under the template's name, before the rename
    project["name"] = name
    project.pop("template", None)
    project.setdefault("config", {})["pulumi:tags"] = {"value": {"pulumi:template": FORK}}
    if problems := cli_rule_violations(project):  # Project.Save asserts Validate() before writing
        raise CliRefusalError("; ".join(problems))
    return yaml.safe_dump(project, sort_keys=False)


# --- The project file as it is ----------------------------------------------------------------

def test_pulumi_yaml_is_valid_for_the_cli(schema):
    cli_load(PROJECT_FILE, schema)


@pytest.mark.parametrize("name", NAMES)
def test_pulumi_new_under_any_name_writes_a_project_the_cli_loads(name, schema):
    saved = pulumi_new(PROJECT_FILE, name, schema)
    project = cli_load(saved, schema)  # every later command
    assert project["name"] == name and "template" not in project
    assert project["config"][f"{NAMESPACE}:dataClassification"]["value"] == "confidential"


@pytest.mark.parametrize("name", NAMES)
def test_the_program_still_gets_the_data_classification_default(name, schema, tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(pulumi_new(PROJECT_FILE, name, schema))
    renamed = dataclasses.replace(Project.load(tmp_path), stack_config_dir=REPO_ROOT / "stacks",
                                  main=REPO_ROOT / "__main__.py")
    assert renamed.name == name
    # The staging stack file does not set it; prod's own value wins over the project's.
    assert renamed.stack_config("staging")[f"{NAMESPACE}:dataClassification"] == "confidential"
    assert renamed.stack_config("prod")[f"{NAMESPACE}:dataClassification"] == "restricted"


def test_a_renamed_project_builds_with_the_default(schema, tmp_path):
    (tmp_path / "Pulumi.yaml").write_text(pulumi_new(PROJECT_FILE, "acme-retail", schema))
    renamed = dataclasses.replace(Project.load(tmp_path), stack_config_dir=REPO_ROOT / "stacks",
                                  main=REPO_ROOT / "__main__.py")
    staging = synthesize("staging", project=renamed)
    assert all("::acme-retail::" in resource.urn for resource in staging)
    assert staging.one("aws:ec2/vpc:Vpc").inputs["tags"]["data-classification"] == "confidential"


# --- The checks catch what the CLI refuses -------------------------------------------------------

def _with_declaration(declaration: Any) -> str:
    project = yaml.safe_load(PROJECT_FILE)
    project["config"][f"{NAMESPACE}:dataClassification"] = declaration
    return yaml.safe_dump(project, sort_keys=False)


def test_a_typed_declaration_of_a_retail_key_breaks_pulumi_new(schema):
    typed = _with_declaration({"type": "string", "description": "…", "default": "confidential"})
    cli_load(typed, schema)  # fine while the project is called retail
    with pytest.raises(CliRefusalError, match="is not namespaced by the project and should not define a type"):
        pulumi_new(typed, "shop", schema)


def test_a_shorthand_value_becomes_a_default_under_the_template_name_and_breaks_pulumi_new(schema):
    # Loaded as `retail`, the shorthand is the project's own default; renamed, a foreign default.
    shorthand = _with_declaration("confidential")
    cli_load(shorthand, schema)
    with pytest.raises(CliRefusalError, match="should not define a default value"):
        pulumi_new(shorthand, "shop", schema)
    # A file already carrying another name reads the same shorthand as a value, and loads.
    cli_load(shorthand.replace("name: retail", "name: shop", 1), schema)


def test_the_schema_catches_a_misspelt_attribute(schema):
    with pytest.raises(jsonschema.ValidationError):
        cli_load(_with_declaration({"valeu": "confidential"}), schema)


# --- The rest of the file -------------------------------------------------------------------------

def test_project_settings(project):
    # The name is the user's (`pulumi new` asks for it); nothing may depend on it.
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
    # Sections come from the presets, dataClassification from the project's value.
    assert required <= set(project["template"]["config"])


def test_project_config_declarations_are_documented(project):
    # `pulumi new` rewrites the file and drops its comments; a declaration's description stays.
    for key, declaration in project["config"].items():
        assert isinstance(declaration, dict) and declaration.get("description"), key


def test_requirements_pin_compatible_ranges():
    lines = [line.strip() for line in (REPO_ROOT / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    names = {line.split(">")[0].split("<")[0].split("=")[0] for line in lines}
    assert {"pulumi", "pulumi-aws", "pulumi-kubernetes", "pydantic"} <= names
    assert all("<" in line for line in lines), "every runtime dependency has an upper bound"
    assert (REPO_ROOT / "requirements-dev.txt").read_text().startswith("#")
