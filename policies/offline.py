"""Evaluate the policy pack outside the Pulumi engine.

The one adapter between plain resource snapshots and pulumi_policy: the project's offline
plan engine and the tests both go through ``evaluate``, so the policies are exercised the
way the engine calls them (``policy.validate(args, report_violation)``), with the same
argument objects and the same read-only prop proxies, and no gRPC server.

Deliberate mirrors of the engine (pulumi_policy's ``_PolicyAnalyzerServicer``):

- props are wrapped in ``unknown_checking_proxy``, so a policy that tests for ``dict``
  instead of ``Mapping`` fails here as it would for real, and a preview-unknown value
  becomes an advisory "can't run during preview" violation;
- ``args.not_applicable()`` is no violation (the report keeps its reason, as the engine
  shows "not applicable" per resource, in ``PolicyReport.not_applicable``);
- a resource policy's violation always names the resource being validated;
- per-policy config may set ``enforcementLevel`` (``advisory``, ``mandatory``,
  ``remediate`` reported as mandatory, ``disabled`` skips the policy); the rest of the
  mapping is what ``args.get_config()`` returns.

One deliberate difference: a policy that raises is recorded as a mandatory "policy crashed"
violation instead of aborting the run, so one bad check never hides the others' results.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

# Not re-exported by the package root, but a public module and public names: the engine's
# own adapter raises UnknownValueError for a preview-unknown value and documents it.
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policies.registry import POLICIES

#: The pack-wide level ``__main__.py`` passes to PolicyPack, for policies that set none.
PACK_ENFORCEMENT_LEVEL = EnforcementLevel.MANDATORY


def _not_applicable_error() -> type[Exception]:
    """The exception ``args.not_applicable()`` raises, learnt from that public method.

    pulumi_policy has no public name for it: ``not_applicable()`` on
    ``ResourceValidationArgs`` and ``StackValidationArgs`` raises
    ``pulumi_policy.policy._NotApplicableError``, which the engine's servicer catches; the
    SDK exports neither the class nor a helper that tells "does not apply" from a crash.
    Rather than import the private class (and break silently if it is renamed), ask the
    public method what it raises, once, and refuse to load unless the answer is safe to
    catch: one class for both argument kinds, defined by pulumi_policy (never a builtin such
    as ``Exception`` or ``RuntimeError``, which would swallow real crashes), and not
    ``UnknownValueError``, which means something else.
    """
    raised: list[type[Exception]] = []
    for args in (
        ResourceValidationArgs("", {}, "", "", _probe_options(), None),
        StackValidationArgs([]),
    ):
        try:
            args.not_applicable("probe")
        except Exception as error:
            raised.append(type(error))
        else:
            raise ImportError(
                "pulumi_policy's not_applicable() returned instead of raising; the offline "
                "evaluator cannot tell a policy that does not apply from one that passed"
            )
    kind = raised[0]
    if (
        any(other is not kind for other in raised)
        or not kind.__module__.startswith("pulumi_policy")
        or issubclass(kind, UnknownValueError)
    ):
        raise ImportError(
            f"pulumi_policy's not_applicable() raises {raised}, which the offline evaluator "
            "cannot catch without also catching crashes or unknown values"
        )
    return kind


def _probe_options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=None,
    )


#: What ``args.not_applicable()`` raises (see ``_not_applicable_error``).
NotApplicableError = _not_applicable_error()


@dataclass(frozen=True)
class ResourceSnapshot:
    """One resource as the offline plan sees it. ``parent``, ``provider``, ``dependencies``
    and ``property_dependencies`` values are URNs of other snapshots."""

    urn: str
    type: str
    name: str
    #: Inputs as pulumi-aws v7 names them (camelCase), e.g. ``{"enableKeyRotation": True}``.
    props: Mapping[str, Any]
    protect: bool = False
    parent: str | None = None
    provider: str | None = None
    dependencies: tuple[str, ...] = ()
    #: Input name -> URNs that input's value came from, e.g. ``{"vpcId": (vpc_urn,)}``.
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyViolation:
    policy: str
    #: ``"mandatory"`` or ``"advisory"`` (EnforcementLevel values).
    enforcement: str
    message: str
    #: The resource at fault; None for a stack-wide violation.
    urn: str | None


@dataclass(frozen=True)
class PolicyNotApplicable:
    """A policy that called ``args.not_applicable(reason)``: for a resource policy about
    ``urn``, for a stack policy (``urn`` None) about the whole stack."""

    policy: str
    reason: str
    urn: str | None


@dataclass
class PolicyReport:
    violations: list[PolicyViolation] = field(default_factory=list)
    #: Where a policy said it does not apply, and why (no violation: the engine's "not
    #: applicable"); the compliance report tells these apart from a pass.
    not_applicable: list[PolicyNotApplicable] = field(default_factory=list)
    #: Names of the policies that ran (disabled ones are left out), in pack order.
    evaluated: list[str] = field(default_factory=list)

    @property
    def mandatory_failed(self) -> bool:
        """Whether the real engine would block the update."""
        return any(v.enforcement == EnforcementLevel.MANDATORY.value for v in self.violations)

    def by_policy(self) -> dict[str, list[PolicyViolation]]:
        """Violations per evaluated policy, in pack order; a clean policy maps to ``[]``."""
        grouped: dict[str, list[PolicyViolation]] = {name: [] for name in self.evaluated}
        for violation in self.violations:
            grouped.setdefault(violation.policy, []).append(violation)
        return grouped

    def summary(self) -> list[str]:
        """One ``PASS``/``WARN``/``FAIL`` line per policy, each violation indented below it."""
        lines: list[str] = []
        for name, violations in self.by_policy().items():
            if not violations:
                lines.append(f"PASS {name}")
                continue
            mandatory = any(v.enforcement == EnforcementLevel.MANDATORY.value for v in violations)
            lines.append(f"{'FAIL' if mandatory else 'WARN'} {name}: {len(violations)} violation(s)")
            lines.extend(f"  - {v.urn or '(stack)'}: {v.message}" for v in violations)
        return lines


def evaluate(
    snapshots: Sequence[ResourceSnapshot],
    policies: Sequence[Policy] = POLICIES,
    config: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    stack_tags: Mapping[str, str] | None = None,
) -> PolicyReport:
    """Run ``policies`` over ``snapshots`` as ``pulumi preview --policy-pack`` would.

    ``config`` maps a policy name to its policy config (what ``args.get_config()``
    returns), optionally with an ``enforcementLevel`` override. ``stack_tags`` are the
    stack's tags, as ``args.stack_tags`` shows them.
    """
    config = config or {}
    by_urn = {s.urn: s for s in snapshots}
    report = PolicyReport()
    for policy in policies:
        policy_config = dict(config.get(policy.name, {}))
        level = _enforcement_level(policy, policy_config.pop("enforcementLevel", None))
        if level is EnforcementLevel.DISABLED:
            continue
        report.evaluated.append(policy.name)
        if isinstance(policy, ResourceValidationPolicy):
            if not policy.has_validation():
                # A remediation-only policy: the engine reports it not applicable.
                continue
            for snapshot in snapshots:
                args = ResourceValidationArgs(
                    snapshot.type,
                    _props(snapshot.props),
                    snapshot.urn,
                    snapshot.name,
                    _options(snapshot),
                    _provider(snapshot, by_urn),
                    policy_config,
                    stack_tags,
                )
                # The engine ignores the urn a resource policy passes: the violation is
                # always about the resource being validated.
                report.violations.extend(
                    _run(policy, args, level, lambda _urn, urn=snapshot.urn: urn,
                         report.not_applicable)
                )
        elif isinstance(policy, StackValidationPolicy):
            args = StackValidationArgs(_stack_resources(snapshots, by_urn), policy_config, stack_tags)
            report.violations.extend(
                _run(policy, args, level, lambda urn: urn, report.not_applicable)
            )
        else:
            report.violations.append(
                _crash(policy, f"unsupported policy class {type(policy).__name__}", None)
            )
    return report


def _enforcement_level(policy: Policy, override: Any) -> EnforcementLevel:
    level = EnforcementLevel(override) if override is not None else policy.enforcement_level
    level = level or PACK_ENFORCEMENT_LEVEL
    # Stack policies cannot remediate and remediations that still violate are downgraded:
    # either way the engine reports them as mandatory.
    return EnforcementLevel.MANDATORY if level is EnforcementLevel.REMEDIATE else level


def _run(
    policy: ResourceValidationPolicy | StackValidationPolicy,
    args: ResourceValidationArgs | StackValidationArgs,
    level: EnforcementLevel,
    urn_of: Callable[[str | None], str | None],
    not_applicable: list[PolicyNotApplicable] | None = None,
) -> list[PolicyViolation]:
    found: list[PolicyViolation] = []
    subject = getattr(args, "urn", None)

    def report_violation(message: str, urn: str | None = None) -> None:
        found.append(
            PolicyViolation(policy.name, level.value, message or policy.description, urn_of(urn))
        )

    try:
        result = policy.validate(args, report_violation)  # type: ignore[arg-type]
        if isawaitable(result):
            _run_to_completion(result)
    except NotApplicableError as error:
        if not_applicable is not None:
            # pulumi_policy keeps the text in .reason (str() of the error is empty), as its
            # servicer reads it; "does not apply" when the policy gave none.
            reason = getattr(error, "reason", None) or str(error) or "the policy does not apply"
            not_applicable.append(PolicyNotApplicable(policy.name, str(reason), subject))
    except UnknownValueError as error:
        # As the engine does: a value unknown until apply cannot block a preview.
        found.append(
            PolicyViolation(
                policy.name,
                EnforcementLevel.ADVISORY.value,
                f"can't run policy {policy.name!r} during preview: {error.message}",
                subject,
            )
        )
    except Exception as error:  # one broken policy must not hide the others' results
        found.append(_crash(policy, f"{type(error).__name__}: {error}", subject))
    return found


def _crash(policy: Policy, detail: str, urn: str | None) -> PolicyViolation:
    # Mandatory whatever the policy's level: a check that did not run proves nothing.
    return PolicyViolation(
        policy.name, EnforcementLevel.MANDATORY.value, f"policy crashed: {detail}", urn
    )


def _run_to_completion(awaitable: Awaitable[Any]) -> None:
    # A private loop, as the engine uses, rather than asyncio.run: asyncio.run finishes by
    # unsetting the thread's event loop, which breaks the Pulumi runtime (the offline plan
    # synthesizes under mocks in the same process and calls asyncio.get_event_loop()).
    async def wait() -> None:
        await awaitable

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(wait())
    finally:
        loop.close()


def _plain(value: Any) -> Any:
    # unknown_checking_proxy wraps only dict and list, so frozen snapshots (mappingproxy,
    # tuples) are thawed first or nested values would escape the unknown check.
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _props(props: Mapping[str, Any]) -> Mapping[str, Any]:
    # A fresh copy per call, so no policy can change what the next one sees.
    return unknown_checking_proxy(_plain(props))


def _options(snapshot: ResourceSnapshot) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=snapshot.protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
        parent=snapshot.parent,
    )


def _provider(
    snapshot: ResourceSnapshot, by_urn: Mapping[str, ResourceSnapshot]
) -> PolicyProviderResource | None:
    if snapshot.provider is None:
        return None
    # Provider references are "<urn>::<id>" in the engine; accept that or a bare URN. A
    # provider outside the snapshots is left out (None), as an unknown parent is.
    provider = by_urn.get(snapshot.provider) or by_urn.get(snapshot.provider.rsplit("::", 1)[0])
    if provider is None:
        return None
    return PolicyProviderResource(provider.type, _props(provider.props), provider.urn, provider.name)


def _stack_resources(
    snapshots: Sequence[ResourceSnapshot], by_urn: Mapping[str, ResourceSnapshot]
) -> list[PolicyResource]:
    resources = {
        s.urn: PolicyResource(
            s.type, _props(s.props), s.urn, s.name, _options(s), _provider(s, by_urn), None, [], {}
        )
        for s in snapshots
    }
    # As the engine does: references to URNs outside the snapshot are dropped, not errors.
    for s in snapshots:
        resource = resources[s.urn]
        resource.parent = resources.get(s.parent) if s.parent is not None else None
        resource.dependencies = [resources[u] for u in s.dependencies if u in resources]
        resource.property_dependencies = {
            prop: [resources[u] for u in urns if u in resources]
            for prop, urns in s.property_dependencies.items()
        }
    return list(resources.values())
