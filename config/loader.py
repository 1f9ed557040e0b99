"""Reading the stack config: the raw Pulumi config, merged over the environment preset,
parsed into the typed model and checked by the cross-key rules, in one pass.

A stack file with three mistakes gets one message with three lines, each naming the key
path and the expected form, raised as ``pulumi.RunError`` (no traceback) before any
resource exists.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.config import CONFIG, get_config_env, get_config_secret_keys_env
from pydantic import BaseModel, ValidationError

from components.common.settings import Environment
from config.presets import PRESETS
from config.rules import cross_field_problems
from config.source import StackFile, StackFileError, read_stack_file
from config.stack import StackConfig

#: The project's config namespace: stack files say ``retail:network``.
NAMESPACE = "retail"


class ConfigError(ValueError):
    """Every problem found in a stack config, each as (key path, message); with the stack file
    at hand, each also names the line of its key (or of the section it belongs in)."""

    def __init__(self, problems: list[tuple[str, str]], source: StackFile | None = None):
        self.problems, self.source = problems, source
        noun = "problem" if len(problems) == 1 else "problems"
        where = f" in {source.path}" if source is not None else ""
        located = [(source.line_of(path) if source is not None else None, path, message)
                   for path, message in problems]
        # In the order of the file, so the message reads alongside it; unplaced problems last.
        located.sort(key=lambda item: item[0] if item[0] is not None else float("inf"))
        lines = [f"  {'line ' + str(line) + ': ' if line else ''}{path}: {message}" for line, path, message in located]
        super().__init__(f"invalid stack configuration{where} ({len(problems)} {noun}):\n" + "\n".join(lines))

    def located(self, source: StackFile) -> ConfigError:
        return ConfigError(self.problems, source)


def _decode(value: Any) -> Any:
    """Pulumi hands structured values to programs as JSON text and scalars as plain text.

    Only objects and arrays are decoded here: decoding every value would turn an owner named
    ``"123"`` into a number. Scalars stay text and pydantic coerces ``"3"`` where a number is due.
    """
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _key_path(loc: tuple[Any, ...]) -> str:
    """``('network', 'cidr')`` -> ``retail:network.cidr``; list indexes read ``[0]``."""
    if not loc:
        return f"{NAMESPACE}:"
    if loc[0] == "region":
        head = "aws:region"
    else:
        head = f"{NAMESPACE}:{loc[0]}"
    tail = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc[1:])
    return head + tail


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that holds the key at ``loc`` (camelCase path from the stack's top)."""
    model: type[BaseModel] = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        candidates += [inner for c in candidates for inner in typing.get_args(c)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not nested:
            return None
        model = nested[0]
    return model


def _unknown_key(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    if model is None:
        return "unknown key; check the spelling against the config reference in README.md"
    # The primary region is `aws:region`, never a `retail:` key.
    known = [field.alias or name for name, field in model.model_fields.items()
             if not (model is StackConfig and name == "region")]
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown key; {hint}expected one of: {', '.join(known)}"


#: pydantic error type -> what the stack file should have held there.
_EXPECTED = {
    "string_type": "text", "string_sub_type": "text",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number",
    "bool_type": "true or false", "bool_parsing": "true or false",
    "dict_type": "a mapping of keys to values", "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "list_type": "a list", "tuple_type": "a list", "set_type": "a list",
}


def _shape(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, list):
        return f"a list {json.dumps(value)[:60]}"
    if isinstance(value, Mapping):
        return f"a mapping {json.dumps(value, default=str)[:60]}"
    return repr(value)


def _describe(error: Mapping[str, Any]) -> str:
    kind, value, loc = error["type"], error.get("input"), tuple(error["loc"])
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "missing":
        return "required key is missing; add it to the stack file"
    if kind in ("enum", "literal_error"):
        expected = error.get("ctx", {}).get("expected", "")
        if not isinstance(value, str):
            return f"expected one of {expected}, got {_shape(value)}"
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",")]
        lowered = {option.lower(): option for option in options}
        close = [lowered[c] for c in difflib.get_close_matches(value.lower(), list(lowered), n=1)]
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"{value!r} is not one of {expected}{hint}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}, got {_shape(value)}"
        if kind.startswith("string") and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and "version" in str(loc[-1]).lower():
            message += f"; YAML reads an unquoted version as a number (1.30 becomes 1.3): quote it, e.g. '{value}'"
        return message
    return f"{error['msg'].lower()} (got {_shape(value)})"


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def parse_stack_config(raw: Mapping[str, Any], stack: str | None = None) -> StackConfig:
    """Parse the flat Pulumi config map (``{"retail:owner": "...", "aws:region": "..."}``).

    Raises :class:`ConfigError` listing every problem. Keys of other namespaces (``aws:profile``,
    ``kubernetes:context``) belong to their providers and are left to them. With the ``stack``
    name, the rules that depend on it run too (physical-name limits, a prod stack's environment).
    """
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for full_key, value in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        decoded = _decode(value)
        if _is_encrypted(decoded):
            # Only the offline engine sees ciphertext (the CLI decrypts); no key of ours is secret.
            problems.append((full_key, f"is stored encrypted ({{secure: ...}}), but {full_key} is not a secret "
                                       f"and is read as plain text: `pulumi config set {full_key} <value>` "
                                       "(without --secret)"))
            continue
        values[key] = decoded
    if "region" in values:
        # The primary region is the provider's: one key, not two that could disagree.
        del values["region"]
        problems.append((f"{NAMESPACE}:region", "set the primary region with `aws:region` instead"))
    if raw.get("aws:region") is not None:
        values["region"] = raw["aws:region"]

    environment = values.get("environment")
    known_environment = isinstance(environment, str) and environment in {env.value for env in Environment}
    # With no valid environment there is no preset, and every key a preset would have
    # supplied would be reported missing: noise that hides the one real mistake.
    preset = PRESETS[Environment(environment)] if known_environment else {}
    merged = _deep_merge(preset, values)

    try:
        config = StackConfig.model_validate(merged)
    except ValidationError as exc:
        config = None
        preset_keys = set().union(*PRESETS.values())
        for error in exc.errors():
            if not known_environment and error["type"] == "missing" and error["loc"][0] in preset_keys:
                continue
            if error["type"] == "missing" and (_key_path(error["loc"]),) in {(p,) for p, _ in problems}:
                continue  # Given, but encrypted: already said.
            problems.append((_key_path(error["loc"]), _describe(error)))
    problems.extend((path if path.startswith(("aws:", "(")) else f"{NAMESPACE}:{path}", message)
                    for path, message in cross_field_problems(merged, stack))
    if problems or config is None:
        raise ConfigError(problems)
    return config


def raw_config() -> dict[str, Any]:
    """Every config key of the stack, ``namespace:key`` to text.

    ``pulumi.Config`` only answers for keys one asks about; finding a mistyped key needs them
    all. The engine passes them in ``PULUMI_CONFIG``; tests and the offline engine set them
    in the runtime's config map, which takes precedence as it does for ``pulumi.Config``.
    """
    return {**get_config_env(), **CONFIG.get()}


def stack_file_of(project_root: Path, stack: str) -> StackFile | None:
    """The stack's file as the CLI finds it (``stackConfigDir`` of Pulumi.yaml), if readable."""
    try:
        project = yaml.safe_load((project_root / "Pulumi.yaml").read_text()) or {}
        directory = project.get("stackConfigDir", ".") if isinstance(project, Mapping) else "."
        return read_stack_file(project_root / str(directory) / f"Pulumi.{stack}.yaml")
    except (OSError, yaml.YAMLError, StackFileError):
        return None


def load_stack_config(project_root: Path | None = None, stack: str | None = None) -> StackConfig:
    """The validated config, or a ``pulumi.RunError`` listing every problem (no traceback),
    each pointing at its line of the stack file when ``project_root`` (where Pulumi.yaml is)
    is given and the file can be read. ``stack`` defaults to the running stack's name."""
    stack = stack or pulumi.get_stack()
    try:
        config = parse_stack_config(raw_config(), stack)
    except ConfigError as exc:
        source = stack_file_of(project_root, stack) if project_root is not None else None
        raise pulumi.RunError(str(exc.located(source) if source is not None else exc)) from None
    if project_root is not None:
        for warning in shared_network_warnings(project_root, stack, config):
            pulumi.log.warn(warning)
    for key in sorted(get_config_secret_keys_env()):
        if key.startswith(f"{NAMESPACE}:"):
            pulumi.log.warn(f"{key} is stored as a secret, but nothing in it is secret: it lands in tags and "
                            "resource names in plain text; store it with `pulumi config set` (no --secret)")
    return config


def _network_of(source: StackFile) -> tuple[str | None, ipaddress.IPv4Network | None]:
    """(environment, VPC CIDR) a stack file asks for, its preset's CIDR when it sets none."""
    environment = source.config.get(f"{NAMESPACE}:environment")
    network = source.config.get(f"{NAMESPACE}:network")
    cidr = network.get("cidr") if isinstance(network, Mapping) else None
    if cidr is None and isinstance(environment, str) and environment in {e.value for e in Environment}:
        cidr = PRESETS[Environment(environment)]["network"]["cidr"]
    try:
        return (environment if isinstance(environment, str) else None,
                ipaddress.IPv4Network(cidr) if isinstance(cidr, str) else None)
    except ValueError:
        return None, None


def shared_network_warnings(project_root: Path, stack: str, config: StackConfig) -> list[str]:
    """Prod and a non-prod stack on overlapping VPC ranges cannot be peered or joined to one
    transit gateway (for a migration, or shared tooling) without renumbering one of them."""
    own = ipaddress.IPv4Network(config.network.cidr)
    warnings = []
    directory = stack_file_of(project_root, stack)
    for path in sorted(directory.path.parent.glob("Pulumi.*.yaml")) if directory is not None else []:
        other = path.name[len("Pulumi."):-len(".yaml")]
        if other == stack:
            continue
        try:
            environment, cidr = _network_of(read_stack_file(path))
        except (OSError, StackFileError):
            continue
        if cidr is None or environment is None or not cidr.overlaps(own):
            continue
        if (environment == Environment.prod.value) != config.is_prod:
            warnings.append(f"retail:network.cidr {own} of stack {stack!r} ({config.environment.value}) overlaps "
                            f"{cidr} of stack {other!r} ({environment}): prod and non-prod networks that overlap "
                            "cannot be peered or share a transit gateway; give each its own range")
    return warnings
