"""Physical names the stack config leads to, checked against AWS's limits before anything is
built, each problem at the key (or the stack name) that produced it.

The components derive every AWS name from ``Conventions.physical_name`` (``retail-<stack>-
<parts>``, lower-case, other characters folded to hyphens). A name that would break a limit
fails here with the fix, instead of as a ``ValueError`` deep inside a component or an AWS
error halfway through ``pulumi up``; two config names that fold to the same physical name are
refused naming both keys. ``tests/config/test_names.py`` holds this table to the names the
synthesized stacks really carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.common.conventions import Conventions
from components.resilience.objectives import REPLICATING

#: Where ``Conventions.physical_name`` stops by default: the tightest common AWS limit.
DEFAULT_NAME_LIMIT = 63
#: The account id appended to bucket names ("-" and 12 digits).
ACCOUNT_SUFFIX = len("-123456789012")

#: The longest fixed names the platform derives from the stack name alone: (what AWS calls
#: it, the parts after ``retail-<stack>-``, its limit, characters appended after the
#: convention's name). Component and child names as RegionalPlatform and RetailPlatform give them.
STACK_DERIVED_NAMES: tuple[tuple[str, tuple[str, ...], int, int], ...] = (
    ("S3 bucket name", ("data-lake",), 63, ACCOUNT_SUFFIX),
    ("ElastiCache replication group id", ("cache",), 40, 0),
    ("EventBridge rule name", ("karpenter", "instance-state-change"), DEFAULT_NAME_LIMIT, 0),
    ("SQS queue name", ("karpenter", "interruption"), DEFAULT_NAME_LIMIT, 0),
    ("RDS parameter group name", ("sql", "aurora-postgresql16"), DEFAULT_NAME_LIMIT, 0),
    ("CloudFront response headers policy name", ("cdn", "security-headers"), DEFAULT_NAME_LIMIT, 0),
    ("Application Auto Scaling policy name", ("sql", "readers-cpu"), DEFAULT_NAME_LIMIT, 0),
    ("CloudWatch log delivery destination", ("cdn", "logs-bucket"), DEFAULT_NAME_LIMIT, 0),
)

#: The workload role of each service: ``retail-<stack>-<service>-workload`` (IAM: 64).
SERVICE_ROLE_SUFFIX = "workload"
#: DynamoDB: 3 to 255 of letters, digits, '_', '-', '.'.
TABLE_NAME_LIMIT = 255


def _conventions(stack: str, qualifier: str = "") -> Conventions:
    return Conventions(environment="", owner="", cost_center="", data_classification="", stack=stack,
                       qualifier=qualifier)


def _name(conventions: Conventions, *parts: str) -> str:
    return conventions.physical_name(*parts, max_length=10_000)


def stack_name_problems(stack: str, *, dr_slice: bool = False) -> list[tuple[str, str]]:
    """The stack name is in every physical name: one too long breaks the tightest limit. With
    a DR region's slice, its names (``retail-<stack>-dr-...``) are the longer ones."""
    variants = [_conventions(stack)] + ([_conventions(stack, "dr")] if dr_slice else [])
    # (what, name as shown, its full length, AWS's limit) for every stack-derived name.
    names = [(what, _name(conventions, *parts) + ("-<account>" if extra else ""),
              len(_name(conventions, *parts)) + extra, limit)
             for conventions in variants for what, parts, limit, extra in STACK_DERIVED_NAMES]
    over = [name for name in names if name[2] > name[3]]
    if not over:
        return []
    what, shown, length, limit = max(over, key=lambda name: name[2] - name[3])
    # The longest stack name that fits every limit, not only the one broken worst.
    longest = min(len(stack) - (full - cap) for _, _, full, cap in names)
    return [("(stack name)", f"stack {stack!r} makes the {what} {shown!r} {length} characters, over AWS's "
                             f"{limit}; use a stack name of at most {max(longest, 1)} characters")]


def table_name_problems(data: Mapping[str, Any], stack: str) -> list[tuple[str, str]]:
    nosql = data.get("nosql")
    tables = nosql.get("tables") if isinstance(nosql, Mapping) else None
    if not isinstance(tables, list):
        return []
    conventions, problems = _conventions(stack), []
    seen: dict[str, int] = {}
    for index, table in enumerate(tables):
        name = table.get("name") if isinstance(table, Mapping) else None
        if not isinstance(name, str):
            continue
        physical = _name(conventions, name)
        key = f"nosql.tables[{index}].name"
        if len(physical) > TABLE_NAME_LIMIT:
            problems.append((key, f"{name!r} becomes the DynamoDB table {physical[:40]}… ({len(physical)} characters), "
                                  f"over DynamoDB's {TABLE_NAME_LIMIT}; shorten it"))
        if physical in seen:
            first = seen[physical]
            problems.append((key, f"{name!r} and nosql.tables[{first}].name ({tables[first]['name']!r}) both become "
                                  f"the table {physical!r} (names are lower-cased, '_' and '.' become '-'); "
                                  "rename one"))
        else:
            seen[physical] = index
    return problems


def service_name_problems(data: Mapping[str, Any], stack: str, *, dr_slice: bool = False) -> list[tuple[str, str]]:
    services = data.get("services")
    if not isinstance(services, list):
        return []
    # The DR slice's role of the same service is the longer name, when there is one.
    conventions, problems = _conventions(stack, "dr" if dr_slice else ""), []
    for index, service in enumerate(services):
        name = service.get("name") if isinstance(service, Mapping) else None
        if not isinstance(name, str):
            continue
        role = _name(conventions, name, SERVICE_ROLE_SUFFIX)
        if len(role) > DEFAULT_NAME_LIMIT:
            problems.append((f"services[{index}].name",
                             f"{name!r} makes its workload role {role!r} {len(role)} characters, over "
                             f"{DEFAULT_NAME_LIMIT}; use a service name of at most "
                             f"{max(DEFAULT_NAME_LIMIT - (len(role) - len(name)), 1)} characters"))
    return problems


def path_collision_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Two services on the same ALB path once a trailing '/' is ignored: one would never be
    reached."""
    services = data.get("services")
    if not isinstance(services, list):
        return []
    problems, seen = [], {}
    for index, service in enumerate(services):
        path = service.get("path") if isinstance(service, Mapping) else None
        if not isinstance(path, str):
            continue
        folded = path.rstrip("/") or "/"
        if folded in seen and services[seen[folded]].get("path") != path:
            first = seen[folded]
            problems.append((f"services[{index}].path",
                             f"{path!r} and services[{first}].path ({services[first]['path']!r}) are the same route "
                             "to the load balancer and the CDN; one service would never be reached: give each its "
                             "own path"))
        seen.setdefault(folded, index)
    return problems


def name_problems(data: Mapping[str, Any], stack: str | None) -> list[tuple[str, str]]:
    problems = path_collision_problems(data)
    if stack is not None:
        dr = data.get("dr")
        strategy = dr.get("strategy") if isinstance(dr, Mapping) else None
        dr_slice = isinstance(strategy, str) and strategy in {s.value for s in REPLICATING}
        problems = (stack_name_problems(stack, dr_slice=dr_slice) + table_name_problems(data, stack)
                    + service_name_problems(data, stack, dr_slice=dr_slice) + problems)
    return problems
