"""Bad input, by class: every realistic mistake is refused with a message at its key path (or
accepted with a warning where it is legal but dangerous), and never a traceback.

The wrong-type classes are generated over every key of every preset, so a key added to any
section inherits them without a new test.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.common.settings import Environment
from config.loader import ConfigError, parse_stack_config, shared_network_warnings
from config.presets import PRESETS
from config.rules import environment_warnings, loosened_defaults
from config.source import StackFileError, read_stack_file
from tests.support import PROJECT

BASE = {"aws:region": "eu-west-1", "retail:owner": "platform-team@example.com", "retail:costCenter": "cc-4100",
        "retail:dataClassification": "confidential"}


def raw(preset: str = "dev", /, **sections: Any) -> dict[str, str]:
    config = {**BASE, "retail:environment": preset}
    if preset == "prod":  # prod must page someone (retail:alarms)
        config["retail:alarms"] = json.dumps({"notify": "oncall@example.com"})
    for key, value in sections.items():
        config[key if ":" in key else f"retail:{key}"] = value if isinstance(value, str) else json.dumps(value)
    return config


def problems(config: dict[str, str], stack: str | None = "test") -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config, stack)
    return caught.value.problems


def one_problem_at(config: dict[str, str], path: str, stack: str | None = "test") -> str:
    found = problems(config, stack)
    at = [message for where, message in found if where == path]
    assert at, f"no problem at {path}: {found}"
    return at[0]


# --- wrong types, at every key of every preset ------------------------------------------------

def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    else:
        yield path, value


LEAVES = sorted({(env.value, path) for env in Environment for path, _ in _leaves(PRESETS[env])}, key=str)


def _wrong_values(value: Any) -> list[Any]:
    """Values of a shape no key with this preset value accepts."""
    if isinstance(value, bool):
        return ["yes", "on", 1, [value], {"value": value}]
    if isinstance(value, int | float):
        return ["three", True, [value], {"value": value}]
    if isinstance(value, list):
        return ["text", {"items": value}, 7]
    return [[value], {"value": value}, True]


def _set(document: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _key_path(path: tuple[Any, ...]) -> str:
    head, *tail = path
    return f"retail:{head}" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in tail)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(leaf=st.sampled_from(LEAVES), choice=st.integers(min_value=0, max_value=4))
def test_a_wrong_type_at_any_key_is_refused_at_that_key(leaf, choice):
    environment, path = leaf
    section = copy.deepcopy(PRESETS[Environment(environment)][path[0]])
    document = {path[0]: section}
    original: Any = document
    for part in path:
        original = original[part]
    wrong = _wrong_values(original)
    bad = wrong[choice % len(wrong)]
    _set(document, path, bad)
    found = problems(raw(environment, **{path[0]: section}))
    # Reported at the key itself (or, for a key inside a list entry, at that entry's field).
    assert _key_path(path) in [where for where, _ in found], found


@pytest.mark.parametrize("key", ["environment", "owner", "costCenter", "dataClassification"])
@pytest.mark.parametrize("bad", [["dev"], {"name": "dev"}])
def test_a_list_or_mapping_as_a_top_level_text_key_is_refused(key, bad):
    message = one_problem_at(raw("dev", **{key: bad}), f"retail:{key}")
    assert "got a list" in message or "got a mapping" in message or "not one of" in message


def test_yes_is_not_a_boolean():
    message = one_problem_at(raw("dev", network={"interfaceEndpoints": "yes"}), "retail:network.interfaceEndpoints")
    assert message == "expected true or false, got 'yes'"


def test_a_boolean_is_not_a_number():
    message = one_problem_at(raw("dev", network={"azCount": True}), "retail:network.azCount")
    assert "expected a number, got the boolean true" in message


def test_an_unquoted_version_read_as_a_number_gets_the_hint_to_quote_it():
    message = one_problem_at(raw("dev", kubernetes={"version": 1.3}), "retail:kubernetes.version")
    assert "quote it" in message and "1.3" in message


# --- the stack file itself ---------------------------------------------------------------------

@pytest.mark.parametrize(("text", "line", "fragment"), [
    ("config:\n\tretail:environment: dev\n", 2, "tabs"),
    ("config:\n  retail:network: {cidr: 10.0.0.0/16\n", 3, "not valid YAML"),
    ("config:\n  retail:environment: dev\n    retail:owner: x\n", 3, "not valid YAML"),
    ("- a\n- b\n", 1, "holds a list"),
    ("just text\n", 1, "holds a single value"),
    ("config: [1, 2]\n", 1, "`config:` holds a list"),
    ("config:\n  retail:owner: a\n  retail:owner: b\n", 3, "written twice (first on line 2)"),
    ("config:\n  retail:network:\n    cidr: 10.0.0.0/16\n    cidr: 10.1.0.0/16\n", 4, "written twice"),
])
def test_a_stack_file_the_cli_could_not_use_is_refused_with_its_line(tmp_path, text, line, fragment):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(text)
    with pytest.raises(StackFileError) as caught:
        read_stack_file(path)
    [(at, message)] = caught.value.problems
    assert at == line and fragment in message


@pytest.mark.parametrize("text", ["", "# only a comment\n", "config:\n"])
def test_an_empty_stack_file_has_no_config(tmp_path, text):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(text)
    assert read_stack_file(path).config == {}


def test_yaml_1_2_booleans_only(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config:\n  a:b: yes\n  a:c: on\n  a:d: true\n")
    assert read_stack_file(path).config == {"a:b": "yes", "a:c": "on", "a:d": True}


def test_lines_point_at_nested_keys_and_list_entries(tmp_path):
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text("config:\n  retail:network:\n    cidr: x\n  retail:services:\n    - name: a\n      cpu: 1\n")
    source = read_stack_file(path)
    assert source.line_of("retail:network.cidr") == 3
    assert source.line_of("retail:services[0].cpu") == 6
    # A missing key is pointed at its section.
    assert source.line_of("retail:network.azCount") == 2


# --- values AWS would reject, against pulumi-aws's own lists ----------------------------------

@pytest.mark.parametrize(("key", "section", "path", "suggested"), [
    ("aws:region", "eu-west-9", "aws:region", "eu-west-"),
    ("dr", {"region": "eu-centrl-1"}, "retail:dr.region", "eu-central-1"),
    ("kubernetes", {"systemNodes": {"instanceType": "m7g.lareg"}}, "retail:kubernetes.systemNodes.instanceType",
     "m7g.large"),
    ("kubernetes", {"karpenter": {"instanceFamilies": ["m7gg"]}}, "retail:kubernetes.karpenter.instanceFamilies",
     "m7g"),
    ("cache", {"nodeType": "cache.r7g.lareg"}, "retail:cache.nodeType", "cache.r7g.large"),
    ("sql", {"instanceClass": "db.r7g.lareg"}, "retail:sql.instanceClass", "db.r7g.large"),
])
def test_names_aws_does_not_offer_are_refused_with_a_suggestion(key, section, path, suggested):
    config = raw("dev", **{key: section}) if key != "aws:region" else {**raw("dev"), key: section}
    message = one_problem_at(config, path)
    assert "did you mean" in message and suggested in message


def test_an_engine_version_the_engine_does_not_offer_names_the_engine_that_does():
    message = one_problem_at(raw("dev", cache={"engine": "redis", "engineVersion": "8.0"}), "retail:cache")
    assert "does not exist for engine 'redis'" in message and "set engine: valkey" in message


# --- limits AWS enforces ------------------------------------------------------------------------

def test_a_stack_name_too_long_for_the_names_it_makes_is_refused_with_the_longest_that_fits():
    message = one_problem_at(raw("dev"), "(stack name)", stack="a-very-long-stack-name-for-this-shop")
    assert "use a stack name of at most" in message


def test_a_service_name_too_long_for_its_role_is_refused_at_the_service():
    services = copy.deepcopy(PRESETS[Environment.dev]["services"])
    services[1]["name"] = "c" * 60
    services[2]["callers"] = ["storefront"]
    message = one_problem_at(raw("dev", services=services), "retail:services[1].name")
    assert "workload role" in message


@pytest.mark.parametrize(("rate", "fragment"), [(5, "minimum"), (3_000_000_000, "maximum")])
def test_the_waf_rate_limit_stays_in_the_range_aws_accepts(rate, fragment):
    assert fragment in one_problem_at(raw("dev", edge={"rateLimit": rate}), "retail:edge.rateLimit")


def test_a_tag_value_too_long_is_refused():
    assert "256" in one_problem_at(raw("dev", owner="x" * 300), "retail:owner")


# --- collisions after normalisation ---------------------------------------------------------------

@pytest.mark.parametrize(("first", "second"), [("Orders", "orders"), ("orders_v2", "orders.v2")])
def test_two_tables_that_become_one_physical_name_are_refused_naming_both(first, second):
    tables = [{"name": first, "partitionKey": {"name": "id", "type": "S"}},
              {"name": second, "partitionKey": {"name": "id", "type": "S"}}]
    message = one_problem_at(raw("dev", nosql={"tables": tables}), "retail:nosql.tables[1].name")
    assert "nosql.tables[0].name" in message and "both become" in message


def test_two_paths_that_are_one_route_are_refused_naming_both():
    services = copy.deepcopy(PRESETS[Environment.dev]["services"])
    services[3]["path"] = "/cart/"
    message = one_problem_at(raw("dev", services=services), "retail:services[3].path")
    assert "services[2].path" in message


# --- capacity that cannot work -----------------------------------------------------------------

def _teams(**changes: Any) -> dict[str, Any]:
    kubernetes = copy.deepcopy(PRESETS[Environment.dev]["kubernetes"])
    kubernetes["teams"][0].update(changes)
    return kubernetes


@pytest.mark.parametrize(("change", "key"), [({"cpuQuota": "500m"}, "cpuQuota"), ({"memoryQuota": "256Mi"},
                                                                                   "memoryQuota")])
def test_a_team_quota_smaller_than_its_services_at_minimum_is_refused(change, key):
    message = one_problem_at(raw("dev", kubernetes=_teams(**change)), f"retail:kubernetes.teams[0].{key}")
    assert "minReplicas" in message and "raise it to at least" in message


def test_an_empty_quota_is_refused():
    message = one_problem_at(raw("dev", kubernetes=_teams(cpuQuota="0")), "retail:kubernetes.teams[0].cpuQuota")
    assert "nothing" in message


def test_a_karpenter_limit_below_the_services_minimum_is_refused():
    kubernetes = copy.deepcopy(PRESETS[Environment.prod]["kubernetes"])
    kubernetes["karpenter"]["cpuLimit"] = 4
    message = one_problem_at(raw("prod", kubernetes=kubernetes, dataClassification="restricted"),
                             "retail:kubernetes.karpenter.cpuLimit")
    assert "raise it to at least" in message


# --- environment mismatch -----------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["prod", "eu-prod", "production", "prod-2"])
def test_a_stack_named_prod_must_run_the_prod_preset(stack):
    assert "named for prod" in one_problem_at(raw("dev"), "retail:environment", stack=stack)


def test_a_stack_named_for_another_non_prod_environment_is_a_warning():
    config = parse_stack_config(raw("dev"), "staging")
    [warning] = environment_warnings(config, "staging")
    assert "'dev'" in warning and "'staging'" in warning
    assert environment_warnings(config, "dev") == [] and environment_warnings(config, "shop") == []


# --- no traceback, whatever the file -----------------------------------------------------------

@pytest.mark.parametrize("text", [
    "config:\n  aws:region: eu-west-9\n  retail:environment: [dev]\n  retail:owner: {a: 1}\n",
    "config:\n\tretail:environment: dev\n",
    "config:\n  retail:owner: null\n",
])
def test_the_plan_exits_2_with_a_message_and_no_traceback(tmp_path, text):
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    (root / "Pulumi.yaml").write_text((PROJECT.main.parent / "Pulumi.yaml").read_text())
    (root / "__main__.py").write_text(PROJECT.main.read_text())
    (root / "stacks" / "Pulumi.bad.yaml").write_text(text)
    result = subprocess.run([sys.executable, "-m", "blueprint", "--project", str(root), "plan", "bad"],
                            capture_output=True, text=True, cwd=Path(PROJECT.main.parent), timeout=120,
                            env={"PYTHONPATH": str(PROJECT.main.parent), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert "Pulumi.bad.yaml" in result.stderr


def test_prod_and_non_prod_on_overlapping_networks_is_a_warning(tmp_path):
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text("name: retail\nruntime: python\nstackConfigDir: stacks\n")
    stack_file = "config:\n  retail:environment: {env}\n  retail:network:\n    cidr: {cidr}\n"
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(stack_file.format(env="prod", cidr="10.30.0.0/16"))
    (tmp_path / "stacks" / "Pulumi.dev.yaml").write_text(stack_file.format(env="dev", cidr="10.30.128.0/17"))
    (tmp_path / "stacks" / "Pulumi.other.yaml").write_text(stack_file.format(env="dev", cidr="10.99.0.0/16"))
    prod = parse_stack_config(raw("prod", network={"cidr": "10.30.0.0/16"}, dataClassification="restricted"), "prod")
    [warning] = shared_network_warnings(tmp_path, "prod", prod)
    assert "'prod'" in warning and "'dev'" in warning and "10.30.128.0/17" in warning
    # Two non-prod stacks may share a range (they are never peered with prod through it).
    dev = parse_stack_config(raw("dev", network={"cidr": "10.99.0.0/16"}), "other")
    assert shared_network_warnings(tmp_path, "other", dev) == []


def test_the_shipped_stacks_do_not_overlap():
    for stack in ("dev", "staging", "prod"):
        config = parse_stack_config(PROJECT.stack_config(stack), stack)
        assert shared_network_warnings(PROJECT.main.parent, stack, config) == []


# --- images -------------------------------------------------------------------------------------

DIGEST = "0" * 64


@pytest.mark.parametrize("image", [f"registry.example.com/retail/cart@sha256:{DIGEST}",
                                   f"registry.example.com/retail/cart:1.2.3@sha256:{DIGEST}",
                                   "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cart:1.2.3"])
def test_an_image_may_be_pinned_by_tag_digest_or_both(image):
    services = copy.deepcopy(PRESETS[Environment.dev]["services"])
    services[2]["image"] = image
    assert parse_stack_config(raw("dev", services=services), "test").services[2].image == image


@pytest.mark.parametrize("image", ["registry.example.com/retail/cart", "registry.example.com/retail/cart:latest",
                                   "registry.example.com/retail/cart@sha256:abc"])
def test_an_unpinned_image_is_refused(image):
    services = copy.deepcopy(PRESETS[Environment.dev]["services"])
    services[2]["image"] = image
    assert "pinned" in one_problem_at(raw("dev", services=services), "retail:services[2].image")


def test_prod_images_pinned_by_tag_only_are_a_warning_naming_the_services():
    prod = PRESETS[Environment.prod]
    assert all("@sha256:" in service["image"] for service in prod["services"])
    assert not any("pinned by tag only" in note for note in
                   loosened_defaults(parse_stack_config(raw("prod", dataClassification="restricted"), "prod")))
    services = copy.deepcopy(prod["services"])
    services[2]["image"] = services[2]["image"].split("@")[0]
    config = parse_stack_config(raw("prod", services=services, dataClassification="restricted"), "prod")
    [note] = [note for note in loosened_defaults(config) if "pinned by tag only" in note]
    assert note.startswith("retail:services: cart run images")
