"""The base of every stack-file section model, and the enums the whole stack shares.

Each layer declares the settings its components take beside them (``components/<layer>/
settings.py``); ``config/stack.py`` composes them into the stack file's schema.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


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

