"""Reading the stack config from the Pulumi runtime, as the engine hands it to the program."""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from components.config import ConfigError, StackConfig, parse_stack_config


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
