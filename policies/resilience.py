"""Disaster recovery (issue 10): the primary stores are covered as the stack's strategy needs,
backup vaults are encrypted with a customer key and locked in prod, prod replication is timed,
and a failover strategy has a CloudFront origin group to fail over to.

The strategy and the DR region are read from the ``dr-strategy`` and ``dr-region`` tags the
components put on every resource (a stack policy cannot see stack outputs or config). A stack
without them is not applicable: nothing declares what it should have.

The detection of what protects a store is ``blueprint.dr``'s, the one ``python -m blueprint
dr`` reports from, run on the resources the engine shows the pack.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs
from pulumi_policy.proxy import UnknownValueError

from blueprint.dr import (
    BACKUP_VAULT,
    BUCKETS,
    DISTRIBUTION,
    REPLICATION,
    at_least,
    found_mechanisms,
    primary_stores,
)
from blueprint.graph import Resource
from components.resilience.objectives import CACHE_REBUILT, StoreKind, Strategy, mechanism
from policies._helpers import (
    check_each,
    is_prod,
    mapping,
    names_customer_key,
    resource_policy,
    sequence,
    stack_policy,
    tag_map,
)

#: The tags the components set from ``retail:dr`` (components/common/conventions.py).
STRATEGY_TAG = "dr-strategy"
REGION_TAG = "dr-region"
VAULT_LOCK = "aws:backup/vaultLockConfiguration:VaultLockConfiguration"
#: Strategies whose traffic fails over by itself: CloudFront needs a second origin to go to.
FAILOVER = frozenset({Strategy.warm_standby, Strategy.active_active})
_KINDS = {"aws:rds/cluster:Cluster": StoreKind.aurora, "aws:dynamodb/table:Table": StoreKind.dynamodb,
          BUCKETS[0]: StoreKind.s3, BUCKETS[1]: StoreKind.s3,
          "aws:elasticache/replicationGroup:ReplicationGroup": StoreKind.cache}


def _safe(value: Any) -> Any:
    # A value unknown at preview links through property dependencies only; as a value it is None.
    try:
        if isinstance(value, Mapping):
            return {key: _safe(_get(value, key)) for key in value}
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [_safe(_get(value, i)) for i in range(len(value))]
    except UnknownValueError:
        return None
    return value


def _get(container: Any, key: Any) -> Any:
    try:
        return container[key]
    except UnknownValueError:
        return None


def _as_graph(resource: PolicyResource) -> Resource:
    props = _safe(resource.props)
    return Resource(
        urn=resource.urn, type=resource.resource_type, name=resource.name, custom=True, inputs=props,
        id=None, property_dependencies={k: tuple(d.urn for d in v) for k, v in resource.property_dependencies.items()},
        region=_region(resource, props))


def _region(resource: PolicyResource, props: Mapping[str, Any]) -> str | None:
    # The resource's own region input, else its provider's (as `blueprint.synth` places it).
    for source in (props, _safe(resource.provider.props) if resource.provider is not None else {}):
        region = source.get("region") if isinstance(source, Mapping) else None
        if isinstance(region, str) and region:
            return region
    return None


def _strategy(tags: Mapping[str, Any]) -> Strategy | None:
    try:
        return Strategy(tags.get(STRATEGY_TAG))
    except ValueError:
        return None


def _stores_covered(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    graph = [_as_graph(r) for r in args.resources]
    declared = [r for r in graph if r.type in _KINDS and _strategy(tag_map(r.inputs.get("tags"))) not in (None,
                                                                                                         Strategy.none)]
    if not declared:
        args.not_applicable(f"no data store is tagged {STRATEGY_TAG} with a strategy other than none")

    def check(store: Resource) -> None:
        tags = tag_map(store.inputs.get("tags"))
        strategy, dr_region = _strategy(tags), tags.get(REGION_TAG)
        if strategy is None or store.region is None or store.region == dr_region:
            return
        if not primary_stores([store], store.region):
            return  # a secondary of a global database: the primary's coverage counts
        if not isinstance(dr_region, str) or not dr_region:
            report_violation(f"store is tagged {STRATEGY_TAG}={strategy.value} but has no {REGION_TAG} tag: the "
                             "components tag both from retail:dr", store.urn)
            return
        kind = _KINDS[store.type]
        # RTC is s3-replication-time-control-prod's to check; any replication covers here.
        expected = mechanism(strategy, kind, replication_time_control=False)
        if expected is CACHE_REBUILT:
            return
        found = found_mechanisms(graph, store, dr_region)
        if not any(at_least(f.mechanism, expected) for f in found):
            has = "; found only: " + ", ".join(f.mechanism.name for f in found) if found else ""
            report_violation(f"{kind.value} store is not covered as {STRATEGY_TAG}={strategy.value} needs: add "
                             f"{expected.name} towards {dr_region}{has}. `python -m blueprint dr <stack>` lists "
                             "every store.", store.urn)

    check_each(declared, check)


def _vault_customer_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not names_customer_key(args.props, "kmsKeyArn"):
        report_violation("backup vault has no customer-managed kmsKeyArn: recovery points would be encrypted with "
                         "the AWS-managed backup key, whose policy the account cannot scope; set kms_key_arn to "
                         "the region's data key.", None)


def _vault_locked(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    vaults = [r for r in args.resources if r.resource_type == BACKUP_VAULT and is_prod(r.props)]
    if not vaults:
        args.not_applicable("the stack has no prod backup vault")
    locks: dict[str, list[PolicyResource]] = {}
    for resource in args.resources:
        if resource.resource_type == VAULT_LOCK:
            for dependency in resource.property_dependencies.get("backupVaultName", ()):
                locks.setdefault(dependency.urn, []).append(resource)

    def check(vault: PolicyResource) -> None:
        found = locks.get(vault.urn, [])
        if not found:
            report_violation("prod backup vault has no VaultLockConfiguration whose backup_vault_name comes from it: "
                             "a compromised account could delete the DR copies; add one in compliance mode "
                             "(changeable_for_days set).", vault.urn)
        for lock in found:
            if lock.props.get("changeableForDays") is None:
                report_violation("vault lock is in governance mode (no changeable_for_days): privileged users can "
                                 "still delete recovery points; set changeable_for_days (at least 3) to lock it in "
                                 "compliance mode.", lock.urn)

    check_each(vaults, check)


def _replication_timed(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    configs = [r for r in args.resources if r.resource_type in REPLICATION
               and any(is_prod(d.props) for d in r.property_dependencies.get("bucket", ()))]
    if not configs:
        args.not_applicable("the stack replicates no prod bucket")

    def check(config: PolicyResource) -> None:
        for index, rule in enumerate(sequence(config.props.get("rules"))):
            rule = mapping(rule)
            if rule.get("status") != "Enabled":
                continue
            destination = mapping(rule.get("destination"))
            timed = mapping(destination.get("replicationTime"))
            metrics = mapping(destination.get("metrics"))
            missing = []
            if timed.get("status") != "Enabled" or mapping(timed.get("time")).get("minutes") != 15:
                missing.append("destination.replication_time (status Enabled, time.minutes 15)")
            if metrics.get("status") != "Enabled":
                missing.append("destination.metrics (status Enabled, event_threshold.minutes 15)")
            if missing:
                report_violation(f"replication rule {rule.get('id', f'#{index}')} of a prod bucket lacks "
                                 f"{' and '.join(missing)}: without Replication Time Control S3 states no bound on "
                                 "how late objects reach the DR region.", config.urn)

    check_each(configs, check)


def _origin_group(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    strategy = _strategy(tag_map(args.props.get("tags")))
    if strategy not in FAILOVER:
        args.not_applicable(f"the distribution is not tagged {STRATEGY_TAG} warm-standby or active-active")
    groups = [mapping(g) for g in sequence(args.props.get("originGroups"))]
    if not groups:
        report_violation(f"{STRATEGY_TAG}={strategy} fails over automatically, but the distribution has no "
                         "origin_groups: add one with the primary and the DR region's origins as members and "
                         "failover_criteria status codes (500, 502, 503, 504).", None)
        return
    for group in groups:
        members = sequence(group.get("members"))
        codes = sequence(mapping(group.get("failoverCriteria")).get("statusCodes"))
        if len(members) != 2 or not codes:
            report_violation(f"origin group {group.get('originId')} needs two members (primary, then DR) and "
                             "failover_criteria.status_codes.", None)
    # CloudFront fails over only GET, HEAD and OPTIONS, and refuses an origin group behind a
    # behaviour that allows writes: those keep one origin whose name Route 53 fails over. Every
    # read-only behaviour (the assets, read-only services) must sit behind a group.
    group_ids = {g.get("originId") for g in groups}
    behaviours = [("default_cache_behavior", mapping(args.props.get("defaultCacheBehavior")))]
    behaviours += [(f"ordered_cache_behaviors {mapping(b).get('pathPattern')!r}", mapping(b))
                   for b in sequence(args.props.get("orderedCacheBehaviors"))]
    for where, behaviour in behaviours:
        methods = {str(m).upper() for m in sequence(behaviour.get("allowedMethods"))}
        if methods and methods <= {"GET", "HEAD", "OPTIONS"} and behaviour.get("targetOriginId") not in group_ids:
            report_violation(f"{where} only reads but targets {behaviour.get('targetOriginId')!r}, not an origin "
                             "group, so it never fails over; target the origin group's origin_id.", None)


POLICIES = [
    stack_policy(
        "dr-stores-covered",
        "DR.1: every primary data store has the DR mechanism its dr-strategy needs, towards its dr-region",
        _stores_covered,
    ),
    resource_policy(
        "backup-vault-cmk-encryption",
        "Backup.1: AWS Backup vaults encrypt recovery points with a customer-managed key",
        [BACKUP_VAULT],
        _vault_customer_key,
    ),
    stack_policy(
        "backup-vault-locked-prod",
        "DR.2: prod backup vaults are locked in compliance mode",
        _vault_locked,
    ),
    stack_policy(
        "s3-replication-time-control-prod",
        "S3.7: prod cross-region replication has Replication Time Control and metrics",
        _replication_timed,
    ),
    resource_policy(
        "dr-failover-origin-group",
        "DR.3: a failover strategy's CloudFront distribution routes through an origin group",
        [DISTRIBUTION],
        _origin_group,
    ),
]
