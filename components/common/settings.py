"""The base of every stack-file section model, and the enums the whole stack shares.

Each layer declares the settings its components take beside them (``components/<layer>/
settings.py``); ``config/stack.py`` composes them into the stack file's schema.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel


def _true_or_false(value: Any) -> Any:
    """Booleans, or the text Pulumi hands a program for one ("true"/"false"); never "yes",
    "on" or 1, which pydantic would otherwise read as true."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expected true or false, got {value!r}")


def _not_a_boolean(value: Any) -> Any:
    """A whole number may come as text ("3", as Pulumi hands scalars over), never as a boolean."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got the boolean {str(value).lower()}")
    return value


#: A stack-file boolean: true or false only.
Bool = Annotated[bool, BeforeValidator(_true_or_false)]
#: A stack-file whole number: a number or its text, never a boolean.
Int = Annotated[int, BeforeValidator(_not_a_boolean)]
#: A stack-file number (fractions allowed), never a boolean.
Float = Annotated[float, BeforeValidator(_not_a_boolean)]


class Environment(StrEnum):
    dev = "dev"
    staging = "staging"
    prod = "prod"


class DataClassification(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class SettingsModel(BaseModel):
    """Stack-file models: camelCase keys, unknown keys refused, values checked strictly enough
    that a quoted number still works (Pulumi hands scalars to programs as strings)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )

