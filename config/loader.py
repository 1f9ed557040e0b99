"""Reading the stack config: the raw Pulumi config, merged over the environment preset,
parsed into the typed model and checked by the cross-key rules, in one pass.

A stack file with three mistakes gets one message with three lines, each naming the key
path and the expected form, raised as ``pulumi.RunError`` (no traceback) before any
resource exists.
"""

from __future__ import annotations

import difflib
import json
import typing
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env
from pydantic import BaseModel, ValidationError

from components.common.settings import Environment
from config.presets import PRESETS
from config.rules import cross_field_problems
from config.stack import StackConfig

#: The project's config namespace: stack files say ``retail:network``.
NAMESPACE = "retail"


class ConfigError(ValueError):
    """Every problem found in a stack config, each as (key path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        lines = [f"  {path}: {message}" for path, message in problems]
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"invalid stack configuration ({len(problems)} {noun}):\n" + "\n".join(lines))


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


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(tuple(error["loc"]))
    if kind == "missing":
        return "required key is missing; add it to the stack file"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error['input']!r} is not one of {expected}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error['input']!r} is not one of {expected}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['msg'].lower()} (got {error['input']!r})"


def parse_stack_config(raw: Mapping[str, Any]) -> StackConfig:
    """Parse the flat Pulumi config map (``{"retail:owner": "...", "aws:region": "..."}``).

    Raises :class:`ConfigError` listing every problem. Keys of other namespaces (``aws:profile``,
    ``kubernetes:context``) belong to their providers and are left to them.
    """
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for full_key, value in raw.items():
        namespace, _, key = full_key.partition(":")
        if namespace == NAMESPACE:
            values[key] = _decode(value)
    if "region" in values:
        # The primary region is the provider's: one key, not two that could disagree.
        del values["region"]
        problems.append((f"{NAMESPACE}:region", "set the primary region with `aws:region` instead"))
    if raw.get("aws:region") is not None:
        values["region"] = raw["aws:region"]

    environment = values.get("environment")
    known_environment = environment in {env.value for env in Environment}
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
            problems.append((_key_path(error["loc"]), _describe(error)))
    problems.extend((f"{NAMESPACE}:{path}", message) for path, message in cross_field_problems(merged))
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


def load_stack_config() -> StackConfig:
    """The validated config, or a ``pulumi.RunError`` listing every problem (no traceback)."""
    try:
        return parse_stack_config(raw_config())
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None
