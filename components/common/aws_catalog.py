"""What AWS offers, read from the enums pulumi-aws ships: regions and EC2 instance types.

Checking names against the provider's own lists (rather than a pattern) refuses `eu-west-9`
or `m7g.lareg` at validation with a "did you mean", instead of at `pulumi up`. The lists come
with the pinned pulumi-aws; a region or instance type newer than it is refused until the
provider is upgraded (the message says so). RDS and ElastiCache classes are the EC2 type
behind their `db.` / `cache.` prefix: pulumi-aws's own RDS enum lags years behind.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from functools import cache


@cache
def regions() -> frozenset[str]:
    import pulumi_aws

    return frozenset(region.value for region in pulumi_aws.Region)


@cache
def instance_types() -> frozenset[str]:
    import pulumi_aws.ec2

    return frozenset(kind.value for kind in pulumi_aws.ec2.InstanceType)


@cache
def instance_families() -> frozenset[str]:
    return frozenset(kind.split(".", 1)[0] for kind in instance_types())


def suggestion(value: str, options: Iterable[str]) -> str:
    """'; did you mean X?' for the closest option, or ''."""
    close = difflib.get_close_matches(value, sorted(options), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def unknown(what: str, value: str, options: Iterable[str], prefix: str = "") -> str:
    return (f"{value!r} is not {what} known to pulumi-aws{suggestion(value, [prefix + o for o in options])} "
            "(a type newer than the pinned provider needs a provider upgrade)")


def check_region(value: str) -> str:
    if value not in regions():
        raise ValueError(unknown("an AWS region", value, regions()))
    return value


def check_instance_type(value: str, prefix: str = "") -> str:
    """``m7g.large``, or with ``prefix`` ``db.r7g.large`` / ``cache.r7g.large``."""
    if not value.startswith(prefix) or value[len(prefix):] not in instance_types():
        kinds = {"db.": "an RDS instance class", "cache.": "an ElastiCache node type"}
        what = kinds.get(prefix, "an EC2 instance type")
        raise ValueError(unknown(what, value, instance_types(), prefix))
    return value


def check_instance_family(value: str) -> str:
    if value not in instance_families():
        raise ValueError(unknown("an EC2 instance family", value, instance_families()))
    return value


