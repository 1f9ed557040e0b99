"""Helpers the policy modules share: reading props as the engine hands them over, policy
documents, tags, companion resources, and the pack's one way to declare a policy.

Props arrive wrapped in read-only ``Mapping``/``Sequence`` proxies that raise
``UnknownValueError`` on a value unknown until apply (an ARN of a resource created in the
same preview). Nothing here catches that error except where a helper says so: the engine
turns it into an advisory "can't run during preview" note, which is the honest answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, TypeGuard, TypeVar

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

ResourceCheck = Callable[[ResourceValidationArgs, ReportViolation], None]
StackCheck = Callable[[StackValidationArgs, ReportViolation], None]

T = TypeVar("T")

#: The tag whose value names the resource's environment (components/common/conventions.py).
ENVIRONMENT_TAG = "environment"
PROD = "prod"

#: AWS-managed KMS keys are named alias/aws/<service> (as a bare alias or inside an alias ARN).
AWS_MANAGED_KEY_ALIAS = "alias/aws/"


# --- Declaring policies ---------------------------------------------------------------------


class TypedResourcePolicy(ResourceValidationPolicy):
    """A resource policy that remembers which types it checks, so a report (``blueprint
    compliance``) can tell "no resource of its types" (not applicable) from "passed" without
    a second list of types that could drift from the filter."""

    def __init__(self, resource_types: frozenset[str] | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: The types the filter lets through; None for every type.
        self.resource_types = resource_types


def resource_policy(
    name: str,
    description: str,
    resource_types: Collection[str] | None,
    validate: ResourceCheck,
    config_schema: PolicyConfigSchema | None = None,
) -> TypedResourcePolicy:
    """A mandatory resource policy that only looks at ``resource_types`` (None: every type).

    The Python SDK has no per-type helper, so the type filter lives here once instead of at
    the top of every check; the policy keeps the types as ``resource_types``.
    """
    types = None if resource_types is None else frozenset(resource_types)

    def validate_type(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if types is None or args.resource_type in types:
            validate(args, report_violation)

    validate_type.__name__ = validate.__name__
    validate_type.__doc__ = validate.__doc__
    return TypedResourcePolicy(
        types,
        name=name,
        description=description,
        validate=validate_type,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=config_schema,
    )


def stack_policy(name: str, description: str, validate: StackCheck) -> StackValidationPolicy:
    """A mandatory stack policy."""
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def check_each(items: Iterable[T], check: Callable[[T], None]) -> None:
    """``check(item)`` for every item, as if each were its own resource policy.

    A stack policy sees every resource at once, so one value unknown during preview (a new
    bucket's ARN inside its bucket policy) would otherwise hide the results for all the
    others. The first ``UnknownValueError`` is re-raised once every item has been checked:
    the engine keeps the violations already reported and adds its advisory note.
    """
    deferred: UnknownValueError | None = None
    for item in items:
        try:
            check(item)
        except UnknownValueError as error:
            deferred = deferred or error
    if deferred is not None:
        raise deferred


# --- Reading props --------------------------------------------------------------------------


def days_text(value: Any) -> str:
    """A number as a person writes it: the engine hands numbers over as floats (protobuf
    Struct), so say "30", not "30.0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def has_key(props: Mapping[str, Any], key: str) -> bool:
    """Whether ``props`` sets ``key`` at all, without reading (and so without tripping on) an
    unknown value: ``key in proxy`` would read it."""
    return any(name == key for name in props)


def is_set(props: Mapping[str, Any], key: str) -> bool:
    """Whether ``props`` gives ``key`` a non-empty value.

    A value unknown during preview counts as set: it is another resource's output (the ARN
    of a key created in the same update), which is never empty. That lets "a customer key is
    configured" checks give a real answer in the first preview of a new stack.
    """
    if not has_key(props, key):
        return False
    try:
        value = props[key]
    except UnknownValueError:
        return True
    if value is None or value is False:
        return False
    if isinstance(value, (str, Mapping, Sequence)):
        return len(value) > 0
    return True


def known(props: Mapping[str, Any], key: str) -> Any:
    """``props[key]``, or None when it is unknown during preview (another resource's
    output, never empty) or missing."""
    try:
        return props.get(key)
    except UnknownValueError:
        return None


def names_customer_key(props: Mapping[str, Any], key: str) -> bool:
    """Whether ``props[key]`` names a customer-managed KMS key: set, and not an AWS-managed
    alias such as ``alias/aws/s3`` (whose key policy the account cannot change). Unknown
    during preview counts as a customer key: it is the ARN of a key this program creates."""
    if not is_set(props, key):
        return False
    try:
        value = props[key]
    except UnknownValueError:
        return True
    return not (isinstance(value, str) and AWS_MANAGED_KEY_ALIAS in value)


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping (a nested input block), else an empty one."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> Sequence[Any]:
    """``value`` if it is a list (not a string), else an empty one."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    return ()


def as_list(value: Any) -> list[Any]:
    """An IAM-style "one or many" value (``"s3:*"`` or ``["s3:*"]``) as a list."""
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    return list(value)


# --- Tags -----------------------------------------------------------------------------------


def tag_map(tags: Any) -> dict[str, Any]:
    """Tags as a dict, whether given as a mapping or as ``[{key, value}]`` blocks."""
    if isinstance(tags, Mapping):
        return {str(key): tags[key] for key in tags}
    # A few resources (aws.autoscaling.Group) take tags as a list of {key, value} blocks.
    if isinstance(tags, Sequence) and not isinstance(tags, str):
        return {
            str(tag["key"]): tag.get("value")
            for tag in tags
            if isinstance(tag, Mapping) and "key" in tag
        }
    return {}


def is_prod(props: Mapping[str, Any]) -> bool:
    """Whether the resource is tagged ``environment=prod``.

    An untagged resource is not prod here; the standard-tags policy reports the missing tag.
    """
    return tag_map(props.get("tags")).get(ENVIRONMENT_TAG) == PROD


# --- Policy documents -----------------------------------------------------------------------


def policy_document(value: Any) -> tuple[Mapping[str, Any] | None, str | None]:
    """A ``policy`` input (JSON string or object) as ``(document, None)``, or
    ``(None, what is wrong with it)``."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            return None, f"is not valid JSON ({error.msg})"
    if not isinstance(value, Mapping):
        return None, "is not a JSON object"
    return value, None


def statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        return [statements]
    if isinstance(statements, Sequence) and not isinstance(statements, str):
        return [s for s in statements if isinstance(s, Mapping)]
    return []


def statement_id(statement: Mapping[str, Any], index: int) -> str:
    return str(statement.get("Sid") or f"#{index}")


def principal_is_everyone(principal: Any) -> bool:
    if isinstance(principal, str):
        return principal == "*"
    if isinstance(principal, Mapping):
        # {"AWS": "*"} is the usual spelling; any principal kind that is "*" is as public.
        return any(principal_is_everyone(value) for value in principal.values())
    if isinstance(principal, Sequence):
        return any(principal_is_everyone(value) for value in principal)
    return False


def public_grant(statement: Mapping[str, Any]) -> str | None:
    """How an ``Allow`` statement without a ``Condition`` opens to everyone, or None."""
    if str(statement.get("Effect", "")).lower() != "allow" or statement.get("Condition"):
        return None
    # Allow + NotPrincipal grants everyone except the named principals: as public as "*".
    if "NotPrincipal" in statement:
        return "every AWS principal outside NotPrincipal"
    if principal_is_everyone(statement.get("Principal")):
        return "every AWS principal ('*')"
    return None


# --- Companion resources --------------------------------------------------------------------


def linked_urns(resources: Sequence[PolicyResource], resource_type: str, prop: str) -> set[str]:
    """URNs that resources of ``resource_type`` reference through input ``prop``.

    property_dependencies, not prop values: during preview a new VPC's id is unknown, but
    the engine already knows which resource the ``vpcId`` input came from.
    """
    return {
        dependency.urn
        for resource in resources
        if resource.resource_type == resource_type
        for dependency in resource.property_dependencies.get(prop, ())
    }


def companions_by_target(
    resources: Sequence[PolicyResource], resource_types: Collection[str], prop: str
) -> dict[str, list[PolicyResource]]:
    """Resources of ``resource_types``, grouped by the URN their input ``prop`` came from
    (e.g. every BucketVersioning under the bucket its ``bucket`` input names)."""
    grouped: dict[str, list[PolicyResource]] = {}
    for resource in resources:
        if resource.resource_type in resource_types:
            for dependency in resource.property_dependencies.get(prop, ()):
                grouped.setdefault(dependency.urn, []).append(resource)
    return grouped


def linked_from(
    resource: PolicyResource, prop: str, resource_types: Collection[str]
) -> list[PolicyResource]:
    """The resources of ``resource_types`` that ``resource``'s input ``prop`` came from
    (e.g. the parameter group a cluster's ``dbClusterParameterGroupName`` names)."""
    return [
        dependency
        for dependency in resource.property_dependencies.get(prop, ())
        if dependency.resource_type in resource_types
    ]


CompanionCheck = Callable[[PolicyResource, PolicyResource], "str | None"]


def companion_policy(
    name: str,
    description: str,
    target_types: Collection[str],
    targets_text: str,
    companion_types: Collection[str],
    prop: str,
    missing: Callable[[PolicyResource], str],
    check: CompanionCheck | None = None,
) -> StackValidationPolicy:
    """A stack policy: every resource of ``target_types`` has a companion of
    ``companion_types`` whose ``prop`` input came from it (``missing(target)`` otherwise,
    reported on the target), and each such companion passes ``check(target, companion)``
    (its message reported on the companion). ``targets_text`` names the targets in the
    not-applicable reason ("S3 buckets")."""

    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        targets = [r for r in args.resources if r.resource_type in target_types]
        if not targets:
            args.not_applicable(f"the stack has no {targets_text}")
        companions = companions_by_target(args.resources, companion_types, prop)

        def check_target(target: PolicyResource) -> None:
            found = companions.get(target.urn, [])
            if not found:
                report_violation(missing(target), target.urn)
                return
            if check is None:
                return
            for companion in found:
                problem = check(target, companion)
                if problem is not None:
                    report_violation(problem, companion.urn)

        check_each(targets, check_target)

    validate.__name__ = f"_{name.replace('-', '_')}"
    return stack_policy(name, description, validate)
