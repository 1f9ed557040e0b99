"""Rules that span several keys, and the floors some environments impose.

They work on the raw, merged (camelCase, possibly ill-typed) data so that they are reported
together with field errors in one message, and they run once, from the loader.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from components.common.compliance import MIN_AUDIT_LOG_RETENTION_DAYS
from components.common.settings import DataClassification, Environment
from components.foundation.settings import PROD_MIN_AZ_COUNT
from components.resilience.objectives import (
    GLOBAL_DATASTORE_FAMILIES,
    GLOBAL_DATASTORE_STRATEGIES,
    GLOBAL_TABLE_STREAM_VIEW,
    REPLICATING,
    Strategy,
    supports_global_datastore,
)
from components.resilience.settings import DrConfig
from config.analytics_apis import api_problems, warehouse_problems
from config.capacity import capacity_problems
from config.names import name_problems
from config.peaks import peak_problems
from config.raw import as_int
from config.uses import change_stream_problems, uses_problems

if TYPE_CHECKING:
    from config.stack import StackConfig

PROD_MIN_LOG_RETENTION_DAYS = MIN_AUDIT_LOG_RETENTION_DAYS

#: Prod keeps database backups at least a week (RDS.11 expects 7 or more).
PROD_MIN_BACKUP_RETENTION_DAYS = 7

#: Prod holds customer data: anything less than confidential would mislabel it.
PROD_CLASSIFICATIONS = ("confidential", "restricted")


@dataclass(frozen=True)
class _Floor:
    """A minimum some environments impose on a numeric key."""

    environments: tuple[Environment, ...]
    path: tuple[str, ...]
    minimum: int
    what: str
    why: str

    def check(self, data: Mapping[str, Any]) -> tuple[str, str] | None:
        environment = data.get("environment")
        if not isinstance(environment, str) or environment not in {env.value for env in self.environments}:
            return None
        value: Any = data
        for part in self.path:
            if not isinstance(value, Mapping):
                return None
            value = value.get(part)
        number = as_int(value)
        if number is None or number >= self.minimum:
            return None
        where = " and ".join(env.value for env in self.environments)
        verb = "needs" if len(self.environments) == 1 else "need"
        return ".".join(self.path), f"{where} {verb} at least {self.minimum} {self.what} ({self.why}), got {number}"


_PROD = (Environment.prod,)
_FLOORS = (
    _Floor(_PROD, ("network", "azCount"), PROD_MIN_AZ_COUNT, "AZs", "losing one still leaves a majority"),
    _Floor(_PROD, ("network", "flowLogRetentionDays"), PROD_MIN_LOG_RETENTION_DAYS, "days of flow logs",
           "PCI DSS 10.5.1"),
    _Floor(_PROD, ("storage", "buckets", "logs", "expirationDays"), MIN_AUDIT_LOG_RETENTION_DAYS,
           "days before access logs expire", "PCI DSS 10.5.1"),
    _Floor(_PROD, ("sql", "instances"), 2, "database instances", "a writer and a reader in another AZ"),
    _Floor(_PROD, ("sql", "backupRetentionDays"), PROD_MIN_BACKUP_RETENTION_DAYS, "days of database backups",
           "RDS.11"),
    _Floor((Environment.staging, Environment.prod), ("cache", "nodes"), 2, "cache nodes",
           "a replica takes over when the primary fails"),
)


#: Stack names that say what they are: such a stack must run that environment's preset.
_ENVIRONMENT_NAMES = {"prod": Environment.prod, "production": Environment.prod, "prd": Environment.prod,
                      "staging": Environment.staging, "stage": Environment.staging, "stg": Environment.staging,
                      "dev": Environment.dev, "development": Environment.dev}


def named_environment(stack: str) -> Environment | None:
    """The environment a stack's name announces (``prod``, ``eu-prod``, ``prod-2``), if any."""
    words = stack.lower().replace("_", "-").replace(".", "-").split("-")
    found = {_ENVIRONMENT_NAMES[word] for word in words if word in _ENVIRONMENT_NAMES}
    return found.pop() if len(found) == 1 else None


def environment_mismatch(data: Mapping[str, Any], stack: str | None) -> tuple[str, str] | None:
    """A stack named prod running the dev preset silently drops every protection: refused.
    (Other mismatches are warnings: see :func:`environment_warnings`.)"""
    environment = data.get("environment")
    if stack is None or not isinstance(environment, str) or environment not in {e.value for e in Environment}:
        return None
    named = named_environment(stack)
    if named is Environment.prod and environment != Environment.prod.value:
        return ("environment", f"stack {stack!r} is named for prod but runs the {environment!r} preset, which "
                               "drops deletion protection, Pulumi protect and prod's floors; set "
                               "`retail:environment: prod`, or name the stack for what it is")
    return None


def dr_problems(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The DR region is another region, and the declared objectives are ones the strategy meets
    (each problem at the target's key, naming the strategy and the one that would meet it)."""
    raw = data.get("dr")
    if not isinstance(raw, Mapping):
        return []
    try:
        dr = DrConfig.model_validate(raw)
    except ValidationError:
        return []  # field errors are the schema's to report
    problems = [(f"dr.{path}", message) for path, message in dr.unmet()]
    if dr.region is not None and dr.region == data.get("region"):
        problems.append(("dr.region", f"{dr.region!r} is the primary region (aws:region); a DR region must be "
                         "a different region"))
    network = data.get("network")
    primary_cidr = network.get("cidr") if isinstance(network, Mapping) else None
    if dr.cidr is not None and isinstance(primary_cidr, str):
        try:
            overlap = ipaddress.ip_network(dr.cidr).overlaps(ipaddress.ip_network(primary_cidr))
        except ValueError:
            overlap = False  # the primary's field error says why
        if overlap:
            problems.append(("dr.cidr", f"{dr.cidr} overlaps retail:network.cidr {primary_cidr}: the regions could "
                             "never be peered; choose a range apart from it"))
    if dr.strategy in REPLICATING:
        problems += _replication_problems(data, dr.strategy)
    return problems


def _replication_problems(data: Mapping[str, Any], strategy: Strategy) -> list[tuple[str, str]]:
    """Store settings the replicating strategies cannot work with."""
    problems: list[tuple[str, str]] = []
    nosql = data.get("nosql")
    tables = nosql.get("tables") if isinstance(nosql, Mapping) else None
    for index, table in enumerate(tables if isinstance(tables, list) else []):
        view = table.get("stream") if isinstance(table, Mapping) else None
        if isinstance(view, str) and view != GLOBAL_TABLE_STREAM_VIEW:
            problems.append((f"nosql.tables[{index}].stream", f"retail:dr.strategy {strategy.value} makes "
                             f"{table.get('name')!r} a global table, which replicates through a "
                             f"{GLOBAL_TABLE_STREAM_VIEW} stream; set stream to {GLOBAL_TABLE_STREAM_VIEW} "
                             "(a consumer still sees every change)"))
    cache = data.get("cache")
    node_type = cache.get("nodeType") if isinstance(cache, Mapping) else None
    if strategy in GLOBAL_DATASTORE_STRATEGIES and isinstance(node_type, str) \
            and not supports_global_datastore(node_type):
        problems.append(("cache.nodeType", f"retail:dr.strategy {strategy.value} keeps a Global Datastore "
                         f"secondary of the cache, which {node_type} cannot join (it runs on "
                         f"{', '.join(sorted(GLOBAL_DATASTORE_FAMILIES))} nodes of size large and above); "
                         "choose e.g. cache.r7g.large, or a strategy that rebuilds the cache"))
    return problems


def cross_field_problems(data: Mapping[str, Any], stack: str | None = None) -> list[tuple[str, str]]:
    """Rules that span several keys, as (key path, message) pairs.

    Works on raw (camelCase, possibly ill-typed) data so that these problems are reported
    together with field errors rather than only once every field is valid. A value of the
    wrong type is skipped here: field validation reports it. With the stack name, the rules
    that depend on it run too.
    """
    problems: list[tuple[str, str]] = []
    if (mismatch := environment_mismatch(data, stack)) is not None:
        problems.append(mismatch)
    problems += name_problems(data, stack)
    problems += capacity_problems(data)
    problems += uses_problems(data)
    problems += change_stream_problems(data)
    problems += warehouse_problems(data)
    problems += api_problems(data)
    problems += dr_problems(data)
    problems += peak_problems(data)
    is_prod = data.get("environment") == Environment.prod.value
    sql, network = data.get("sql"), data.get("network")
    proxy = sql.get("proxy") if isinstance(sql, Mapping) else None
    if isinstance(proxy, Mapping) and proxy.get("enabled") is True and isinstance(network, Mapping) \
            and network.get("interfaceEndpoints") is False:
        problems.append(("sql.proxy.enabled", "RDS Proxy reads the database's secret through the Secrets Manager "
                         "interface endpoint (the isolated subnets have no route out): set "
                         "retail:network.interfaceEndpoints: true, or sql.proxy.enabled: false"))
    ci = data.get("ci")
    if is_prod and isinstance(ci, Mapping) and ci.get("deployFromBranches") is True:
        problems.append(("ci.deployFromBranches", "prod deploys only from an approved GitHub environment: set "
                         "deployFromBranches: false and list the environment in ci.environments"))
    if is_prod and data.get("alarms") is None:
        problems.append(("alarms.notify", "prod must page someone when the shop fails: set retail:alarms.notify to "
                         "the on-call address or an https:// chat webhook"))
    classification = data.get("dataClassification")
    if is_prod and isinstance(classification, str) and classification not in PROD_CLASSIFICATIONS \
            and classification in {c.value for c in DataClassification}:
        problems.append((
            "dataClassification",
            f"prod holds customer data: classify it {' or '.join(PROD_CLASSIFICATIONS)}, not {classification!r}",
        ))
    problems.extend(problem for floor in _FLOORS if (problem := floor.check(data)) is not None)
    kubernetes = data.get("kubernetes")
    teams = kubernetes.get("teams") if isinstance(kubernetes, Mapping) else None
    services = data.get("services")
    if isinstance(teams, list) and isinstance(services, list):
        known = {team.get("name") for team in teams
                 if isinstance(team, Mapping) and isinstance(team.get("name"), str)}
        for index, team in enumerate(teams):
            if not isinstance(team, Mapping):
                continue
            peak = sum(as_int(s.get("maxReplicas")) or 0 for s in services
                       if isinstance(s, Mapping) and s.get("team") == team.get("name"))
            pods = as_int(team.get("maxPods", 100))
            # A rollout at peak adds maxSurge (25%) on top of maxReplicas.
            if pods is not None and peak and pods < peak * 5 // 4:
                problems.append((f"kubernetes.teams[{index}].maxPods",
                                 f"{pods} pods cannot hold the team's services at maxReplicas ({peak}) plus a 25% "
                                 f"rollout surge; raise it to at least {peak * 5 // 4}"))
        for index, service in enumerate(services):
            team = service.get("team") if isinstance(service, Mapping) else None
            if isinstance(team, str) and team not in known:
                problems.append((f"services[{index}].team", f"{team!r} is not a team in retail:kubernetes.teams "
                                 f"({', '.join(sorted(filter(None, known))) or 'none'})"))
    return problems


def loosened_defaults(config: StackConfig) -> list[str]:
    """Allowed but weaker-than-preset choices in prod, each with what it costs: the
    platform logs them as warnings so a loosening is always said out loud."""
    notes = account_wide_loosenings(config)
    if not config.is_prod:
        return notes
    if config.network.nat_strategy == "single":
        notes.append("retail:network.natStrategy is 'single' in prod: an outage of that NAT "
                     "gateway's AZ cuts internet egress for every AZ")
    if not config.network.interface_endpoints:
        notes.append("retail:network.interfaceEndpoints is off in prod: image pulls, STS and "
                     "log shipping cross the NAT gateway instead of staying on private endpoints")
    if not config.storage.buckets.backups.object_lock:
        notes.append("retail:storage.buckets.backups.objectLock is off in prod: backups can be "
                     "deleted or overwritten by anyone allowed to write them (ransomware)")
    if config.kubernetes.public_endpoint:
        notes.append("retail:kubernetes.publicEndpoint is on in prod: the API server is reachable from "
                     f"{', '.join(config.kubernetes.public_access_cidrs)} (EKS.1)")
    if config.sql.max_readers is None:
        notes.append("retail:sql.maxReaders is unset in prod: readers do not scale out for a peak")
    mutable = [service.name for service in config.services if "@sha256:" not in service.image]
    if mutable:
        notes.append(f"retail:services: {', '.join(mutable)} run images pinned by tag only in prod; a tag can be "
                     "pushed again, so what runs can change without a deployment: pin by digest "
                     "(image:tag@sha256:...)")
    return notes


def account_wide_loosenings(config: StackConfig) -> list[str]:
    """Loosenings that matter in every environment."""
    notes = []
    if not config.storage.account_public_access_block:
        notes.append("retail:storage.accountPublicAccessBlock is off: a bucket elsewhere in the account "
                     "can be made public (S3.1)")
    if any(cidr.endswith("/0") for cidr in config.kubernetes.public_access_cidrs):
        notes.append("retail:kubernetes.publicAccessCidrs opens the API server endpoint to the whole "
                     "internet")
    return notes


def environment_warnings(config: StackConfig, stack: str) -> list[str]:
    """A stack named for one non-prod environment running another's preset: allowed (a
    staging-sized dev stack is a choice), but said out loud."""
    warnings = ci_warnings(config, stack)
    named = named_environment(stack)
    if named is None or named is config.environment or named is Environment.prod:
        return warnings
    return [f"retail:environment is {config.environment.value!r} but stack {stack!r} is named for "
            f"{named.value!r}: the {config.environment.value} preset applies", *warnings]


def ci_warnings(config: StackConfig, stack: str) -> list[str]:
    """deploy.yml runs each stack's job in the GitHub environment named after the stack (dev's
    outside any): a stack whose CI role trusts neither could not be deployed from CI."""
    ci = config.ci
    if not ci.enabled or stack in ci.environments or ci.deploy_from_branches:
        return []
    return [f"retail:ci is enabled but neither lists environment {stack!r} nor sets deployFromBranches: "
            "deploy.yml's job for this stack could not assume the deploy role"]
