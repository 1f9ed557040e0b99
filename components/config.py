"""The typed stack configuration.

A stack file says *what* differs for that stack; the environment preset (dev, staging,
prod) carries everything else. The raw Pulumi config (a flat map of ``namespace:key`` to
string, as the engine hands it to the program) is merged over the preset and validated in
one pass, so a stack file with three mistakes gets one message with three lines, each
naming the key path and the expected form. Nothing here imports the AWS SDK: validation
runs before any resource exists.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from components.cidr import AZ_SLOTS, MAX_VPC_PREFIX, MIN_VPC_PREFIX
from components.compliance import MIN_AUDIT_LOG_RETENTION_DAYS
from components.conventions import Conventions

#: The project's config namespace: stack files say ``retail:network``.
NAMESPACE = "retail"

#: CloudWatch Logs accepts only these retention periods (days). "Never expire" is not
#: offered: unbounded retention is a cost nobody decided on.
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)

PROD_MIN_LOG_RETENTION_DAYS = MIN_AUDIT_LOG_RETENTION_DAYS

#: Prod spreads over at least three AZs: losing one still leaves a majority for quorum
#: systems (Aurora storage, etcd behind EKS) and two AZs of capacity for a surge.
PROD_MIN_AZ_COUNT = 3
MIN_AZ_COUNT = 2  # EKS and ALBs require subnets in two AZs.
MAX_AZ_COUNT = min(6, AZ_SLOTS)  # No AWS region has more than six AZs.

#: RFC 1918. Python's ``is_private`` would also admit loopback, link-local and benchmarking
#: ranges, which AWS refuses or which collide with its own addresses.
_RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))

#: Prod holds customer data: anything less than confidential would mislabel it.
PROD_CLASSIFICATIONS = ("confidential", "restricted")

_REGION_PATTERN = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")


class Environment(StrEnum):
    dev = "dev"
    staging = "staging"
    prod = "prod"


class DataClassification(StrEnum):
    public = "public"
    internal = "internal"
    confidential = "confidential"
    restricted = "restricted"


class _Model(BaseModel):
    """Stack-file models: camelCase keys, unknown keys refused, values checked strictly enough
    that a quoted number still works (Pulumi hands scalars to programs as strings)."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=True,
    )


class NetworkConfig(_Model):
    cidr: str = Field(
        description="The VPC's IPv4 CIDR, /16 to /22; the subnet tiers are carved from it.",
    )
    az_count: int = Field(description="How many availability zones the VPC spans.")
    nat_strategy: Literal["single", "perAz"] = Field(
        description="`perAz`: one NAT gateway per AZ (an AZ outage leaves the others' egress "
        "intact). `single`: one shared NAT gateway (cheaper, for dev).",
    )
    interface_endpoints: bool = Field(
        description="Create interface endpoints (ECR, STS, CloudWatch Logs) so that nodes pull "
        "images and fetch credentials without crossing the NAT gateway.",
    )
    flow_log_retention_days: int = Field(
        description="Days the VPC flow logs are kept in CloudWatch Logs.",
    )

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            reason = str(exc)
            if "has host bits set" in reason:
                raise ValueError(
                    f"{value!r} has host bits set; use the network address, e.g. "
                    f"'{ipaddress.IPv4Network(value, strict=False)}'"
                ) from None
            raise ValueError(f"{value!r} is not a valid IPv4 network (expected e.g. '10.0.0.0/16')") from None
        if not MIN_VPC_PREFIX <= network.prefixlen <= MAX_VPC_PREFIX:
            raise ValueError(f"{value!r} must have a prefix between /{MIN_VPC_PREFIX} and /{MAX_VPC_PREFIX} "
                             "(the smallest tier's subnets must still be /28 or larger)")
        if not any(network.subnet_of(block) for block in _RFC1918):
            raise ValueError(f"{value!r} is not a private (RFC 1918) range")
        return str(network)

    @field_validator("az_count")
    @classmethod
    def _az_bounds(cls, value: int) -> int:
        if not MIN_AZ_COUNT <= value <= MAX_AZ_COUNT:
            raise ValueError(f"must be between {MIN_AZ_COUNT} and {MAX_AZ_COUNT}, got {value}")
        return value

    @field_validator("flow_log_retention_days")
    @classmethod
    def _retention_allowed(cls, value: int) -> int:
        if value not in LOG_RETENTION_DAYS:
            raise ValueError(f"{value} is not a CloudWatch Logs retention period; use one of "
                             f"{', '.join(map(str, LOG_RETENTION_DAYS))}")
        return value


class StackConfig(_Model):
    """The whole, validated stack configuration."""

    environment: Environment = Field(description="Which preset the stack starts from.")
    owner: str = Field(min_length=1, description="Team or address accountable for the stack (tag `owner`).")
    cost_center: str = Field(min_length=1, description="Cost centre billed for the stack (tag `cost-center`).")
    data_classification: DataClassification = Field(
        description="The most sensitive data the stack holds (tag `data-classification`).",
    )
    region: str = Field(description="Primary region, from `aws:region`.")
    dr_region: str | None = Field(
        default=None,
        description="Disaster-recovery region. When set, KMS keys are multi-Region.",
    )
    network: NetworkConfig

    @field_validator("region", "dr_region")
    @classmethod
    def _region_shape(cls, value: str | None) -> str | None:
        if value is not None and not _REGION_PATTERN.match(value):
            raise ValueError(f"{value!r} is not an AWS region name (expected e.g. 'eu-west-1')")
        return value

    @model_validator(mode="after")
    def _environment_rules(self) -> StackConfig:
        problems = cross_field_problems(self.model_dump(by_alias=True, mode="json"))
        if problems:
            raise _CrossFieldError(problems)
        return self

    @property
    def is_prod(self) -> bool:
        return self.environment is Environment.prod

    def loosened_defaults(self) -> list[str]:
        """Allowed but weaker-than-preset choices in prod, each with what it costs: the
        platform logs them as warnings so a loosening is always said out loud."""
        if not self.is_prod:
            return []
        notes = []
        if self.network.nat_strategy == "single":
            notes.append("retail:network.natStrategy is 'single' in prod: an outage of that NAT "
                         "gateway's AZ cuts internet egress for every AZ")
        if not self.network.interface_endpoints:
            notes.append("retail:network.interfaceEndpoints is off in prod: image pulls, STS and "
                         "log shipping cross the NAT gateway instead of staying on private endpoints")
        return notes

    def conventions(self, stack: str) -> Conventions:
        return Conventions(
            environment=self.environment.value,
            owner=self.owner,
            cost_center=self.cost_center,
            data_classification=self.data_classification.value,
            stack=stack,
        )


def _as_int(value: Any) -> int | None:
    """The whole number pydantic would read from ``value`` ("2", 2.0, "2.0"), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def cross_field_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Rules that span several keys, as (key path, message) pairs.

    Works on raw (camelCase, possibly ill-typed) data so that these problems are reported
    together with field errors rather than only once every field is valid. A value of the
    wrong type is skipped here: field validation reports it.
    """
    problems: list[tuple[str, str]] = []
    region, dr_region = data.get("region"), data.get("drRegion")
    if dr_region is not None and dr_region == region:
        problems.append((
            "drRegion",
            f"{dr_region!r} is the primary region; a DR region must be a different region",
        ))
    network = data.get("network")
    is_prod = data.get("environment") == Environment.prod.value
    classification = data.get("dataClassification")
    if is_prod and isinstance(classification, str) and classification not in PROD_CLASSIFICATIONS \
            and classification in {c.value for c in DataClassification}:
        problems.append((
            "dataClassification",
            f"prod holds customer data: classify it {' or '.join(PROD_CLASSIFICATIONS)}, not {classification!r}",
        ))
    if is_prod and isinstance(network, Mapping):
        az_count = _as_int(network.get("azCount"))
        if az_count is not None and az_count < PROD_MIN_AZ_COUNT:
            problems.append((
                "network.azCount",
                f"prod needs at least {PROD_MIN_AZ_COUNT} AZs, got {az_count}",
            ))
        retention = _as_int(network.get("flowLogRetentionDays"))
        if retention is not None and retention < PROD_MIN_LOG_RETENTION_DAYS:
            problems.append((
                "network.flowLogRetentionDays",
                f"prod keeps logs at least {PROD_MIN_LOG_RETENTION_DAYS} days (PCI DSS 10.5.1), "
                f"got {retention}",
            ))
    return problems


class _CrossFieldError(ValueError):
    """Rules that span several fields, each reported at its own key path."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


#: Environment presets: a stack file overrides only what differs. (``dataClassification``
#: defaults in Pulumi.yaml, where the CLI applies it, so it is not repeated here.)
PRESETS: dict[Environment, dict[str, Any]] = {
    Environment.dev: {
        "network": {
            "cidr": "10.10.0.0/16",
            "azCount": 2,
            "natStrategy": "single",
            "interfaceEndpoints": False,
            "flowLogRetentionDays": 30,
        },
    },
    Environment.staging: {
        "network": {
            "cidr": "10.20.0.0/16",
            "azCount": 3,
            "natStrategy": "single",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 90,
        },
    },
    Environment.prod: {
        "network": {
            "cidr": "10.30.0.0/16",
            "azCount": 3,
            "natStrategy": "perAz",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 365,
        },
    },
}


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


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; check the spelling against the config reference in README.md"
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
            if isinstance(error.get("ctx", {}).get("error"), _CrossFieldError):
                continue  # Reported below from the raw data, with or without field errors.
            if not known_environment and error["type"] == "missing" and error["loc"][0] in preset_keys:
                continue
            problems.append((_key_path(error["loc"]), _describe(error)))
    problems.extend((_key_path(tuple(path.split("."))), message)
                    for path, message in cross_field_problems(merged))
    if problems or config is None:
        raise ConfigError(problems)
    return config
