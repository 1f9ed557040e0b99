"""What each disaster-recovery strategy deploys per store, and the recovery point and time
objectives (RPO, RTO) each mechanism gives: the figures the stack config is validated
against and ``blueprint dr`` reports.

Stdlib only: the config validation, the components, the policy pack and the report read the
same table. Each figure names its source; where AWS states a typical value, not a bound,
that is said, and the figure used is the stated one. Durations are in seconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Strategy(StrEnum):
    """The four strategies of AWS's "Disaster Recovery of Workloads on AWS", plus none."""

    none = "none"
    backup_restore = "backup-restore"
    pilot_light = "pilot-light"
    warm_standby = "warm-standby"
    active_active = "active-active"


#: Cheapest first: the first strategy that meets a target is the one to suggest.
STRATEGY_ORDER = (Strategy.none, Strategy.backup_restore, Strategy.pilot_light, Strategy.warm_standby,
                  Strategy.active_active)


class Tier(StrEnum):
    """What a target is declared for. Databases and objects are apart because AWS's figures
    for them differ by two orders of magnitude (a second against fifteen minutes)."""

    databases = "databases"
    objects = "objects"
    service = "service"


class StoreKind(StrEnum):
    aurora = "aurora"
    dynamodb = "dynamodb"
    s3 = "s3"
    cache = "cache"


#: The tier each store kind counts towards. The cache holds copies of data kept elsewhere
#: (sessions live in DynamoDB), so no target applies to it; it is still listed with how it
#: comes back.
TIER_OF: dict[StoreKind, Tier | None] = {
    StoreKind.aurora: Tier.databases, StoreKind.dynamodb: Tier.databases, StoreKind.s3: Tier.objects,
    StoreKind.cache: None,
}

MINUTE, HOUR = 60, 3600

#: AWS Backup runs this often when a DR strategy is on, and copies each recovery point to
#: the DR region's vault when it completes.
BACKUP_SCHEDULE = "cron(0 * ? * * *)"
BACKUP_INTERVAL = HOUR


@dataclass(frozen=True)
class Mechanism:
    name: str
    """What keeps the store recoverable in the DR region."""
    rpo: int | None
    """Seconds of writes that may be lost; None: no bound is stated (a failure against any target)."""
    rto: int
    """Seconds until the store serves again in the DR region once recovery starts."""
    source: str


BACKUP_COPY = Mechanism(
    "AWS Backup, hourly, copied to the DR region's vault",
    2 * HOUR, 4 * HOUR,
    "RPO: the hourly schedule plus up to an hour for the cross-region copy to finish (AWS Backup "
    "copies after the backup completes; the time grows with size). RTO: a restore of a snapshot "
    "into a new cluster or table, hours for large stores (AWS, 'Disaster Recovery of Workloads "
    "on AWS': backup and restore, RPO/RTO in hours).")
AURORA_GLOBAL_HEADLESS = Mechanism(
    "Aurora Global Database, headless secondary cluster",
    1, 15 * MINUTE,
    "RPO: Aurora Global Database replicates with typical lag under a second (Aurora User Guide, "
    "'Using Amazon Aurora Global Database'). RTO: the secondary has no instance; adding one and "
    "failing over takes about as long as creating a DB instance, counted as 15 minutes.")
AURORA_GLOBAL = Mechanism(
    "Aurora Global Database, secondary cluster with a reader",
    1, MINUTE,
    "RPO: typical lag under a second. RTO: a managed cross-Region failover or switchover to a "
    "secondary with an instance, typically a minute (Aurora User Guide, 'Recovering an Amazon "
    "Aurora global database from an unplanned outage').")
AURORA_GLOBAL_WRITE_FORWARDING = Mechanism(
    "Aurora Global Database, secondary with a reader and write forwarding",
    1, MINUTE, AURORA_GLOBAL.source)
DYNAMODB_GLOBAL = Mechanism(
    "DynamoDB global table replica (our replica key, point-in-time recovery)",
    1, 0,
    "RPO: global tables replicate typically within a second (DynamoDB Developer Guide, 'Global "
    "tables'). RTO: every replica takes reads and writes already.")
S3_REPLICATION_RTC = Mechanism(
    "S3 replication with Replication Time Control to a replica bucket",
    15 * MINUTE, 0,
    "RPO: S3 RTC replicates 99.99% of objects within 15 minutes, backed by an SLA (S3 User "
    "Guide, 'Meeting compliance requirements with S3 Replication Time Control'). RTO: the replica "
    "bucket is readable already.")
S3_REPLICATION = Mechanism(
    "S3 replication to a replica bucket (no Replication Time Control)",
    None, 0,
    "RPO: without RTC, S3 replicates most objects within 15 minutes but states no bound: some "
    "take hours (S3 User Guide, 'Replicating objects'). RTO: the replica is readable already.")
CACHE_GLOBAL = Mechanism(
    "ElastiCache Global Datastore secondary",
    1, MINUTE,
    "RPO: Global Datastore replication lag is typically under a second. RTO: promoting the "
    "secondary takes under a minute (ElastiCache User Guide, 'Replication across AWS Regions "
    "using global datastores').")
CACHE_REBUILT = Mechanism(
    "rebuilt empty in the DR region (the cache holds copies of data kept elsewhere)",
    None, 0, "Nothing to recover: the services refill it from the stores of record.")
NOT_COVERED = Mechanism("none: the stack has no DR strategy", None, 0, "retail:dr.strategy is none")

#: Store kind x strategy -> mechanism. Prod's object replication carries RTC; elsewhere it is
#: the caller's choice (``replication_time_control``), see :func:`mechanism`.
_MECHANISMS: dict[Strategy, dict[StoreKind, Mechanism]] = {
    Strategy.none: dict.fromkeys(StoreKind, NOT_COVERED),
    Strategy.backup_restore: {StoreKind.aurora: BACKUP_COPY, StoreKind.dynamodb: BACKUP_COPY,
                              StoreKind.s3: BACKUP_COPY, StoreKind.cache: CACHE_REBUILT},
    Strategy.pilot_light: {StoreKind.aurora: AURORA_GLOBAL_HEADLESS, StoreKind.dynamodb: DYNAMODB_GLOBAL,
                           StoreKind.s3: S3_REPLICATION_RTC, StoreKind.cache: CACHE_REBUILT},
    Strategy.warm_standby: {StoreKind.aurora: AURORA_GLOBAL, StoreKind.dynamodb: DYNAMODB_GLOBAL,
                            StoreKind.s3: S3_REPLICATION_RTC, StoreKind.cache: CACHE_GLOBAL},
    Strategy.active_active: {StoreKind.aurora: AURORA_GLOBAL_WRITE_FORWARDING, StoreKind.dynamodb: DYNAMODB_GLOBAL,
                             StoreKind.s3: S3_REPLICATION_RTC, StoreKind.cache: CACHE_GLOBAL},
}


def mechanism(strategy: Strategy, kind: StoreKind, *, replication_time_control: bool = True) -> Mechanism:
    found = _MECHANISMS[strategy][kind]
    if found is S3_REPLICATION_RTC and not replication_time_control:
        return S3_REPLICATION
    return found


#: The service tier: how long until the shop answers from the DR region. The failover
#: component's detection figures are checked against these in the tests.
SERVICE_RTO: dict[Strategy, tuple[int | None, str]] = {
    Strategy.none: (None, "no DR region"),
    Strategy.backup_restore: (
        8 * HOUR, "the DR region's slice is built by `pulumi up` and every store restored from copied "
        "backups before traffic moves by hand (AWS: hours)"),
    Strategy.pilot_light: (
        HOUR, "the network and the replicated data are there; the cluster, nodes and services are "
        "created (`pulumi up` with the strategy raised), then traffic moves by hand (AWS: tens of minutes)"),
    Strategy.warm_standby: (
        5 * MINUTE, "about 4 min 45 s until clients reach the standby: the ALB marks the last pod "
        "unhealthy (3 checks 15 s apart), the region's alarm needs 2 one-minute datapoints, CloudWatch "
        "publishes an ALB datapoint about a minute late, and clients follow within the ALB records' 60 s TTL "
        "(components/edge/failover.py). The standby answers at once at its minimum size and scales out "
        "under the load (the surge model: under three minutes to double); CloudFront's origin group sends "
        "asset requests to the replica bucket on the first error"),
    Strategy.active_active: (
        5 * MINUTE, "the same detection and TTL as warm-standby (Route 53 stops answering with the failed "
        "region); the other region is at full size already, so nothing scales to catch up"),
}

#: What a DR region's slice holds per strategy.
COMPUTE: dict[Strategy, str] = {
    Strategy.none: "nothing", Strategy.backup_restore: "keys and the backup vault only",
    Strategy.pilot_light: "network and replicated data, no cluster",
    Strategy.warm_standby: "the full slice at minimum size", Strategy.active_active: "the full slice at full size",
}

#: Strategies that replicate data continuously: their DR-region keys are replicas of the
#: primary's multi-Region keys. Backup and restore copies re-encrypt with the DR vault's own
#: key, so it needs no multi-Region key (KMS cannot make an existing key multi-Region: asking
#: for it replaces the key).
REPLICATING = frozenset({Strategy.pilot_light, Strategy.warm_standby, Strategy.active_active})

#: A store tagged with this says why it has no copy in the DR region (the value is the
#: reason); the report lists it, the pack accepts it.
DR_EXEMPT_TAG = "dr-exempt"

#: Strategies whose DR slice runs the cluster, the ALB and the services.
COMPUTE_STRATEGIES = frozenset({Strategy.warm_standby, Strategy.active_active})

#: Strategies that keep a Global Datastore secondary of the cache.
GLOBAL_DATASTORE_STRATEGIES = frozenset({Strategy.warm_standby, Strategy.active_active})

#: DynamoDB global tables (version 2019.11.21) replicate through the table's stream, which must
#: carry new and old images.
GLOBAL_TABLE_STREAM_VIEW = "NEW_AND_OLD_IMAGES"


#: Node families a Global Datastore runs on, in size large and above (ElastiCache User Guide,
#: "Prerequisites and limitations" of global datastores). The burstable t-family and previous
#: generations (m4, r4, ...) are not among them.
GLOBAL_DATASTORE_FAMILIES = frozenset({"m5", "m6g", "m7g", "r5", "r6g", "r6gd", "r7g", "c7gn"})
_SMALLER_THAN_LARGE = frozenset({"nano", "micro", "small", "medium"})
_CACHE_NODE_TYPE = re.compile(r"^cache\.([a-z0-9]+)\.([a-z0-9]+)$")


def supports_global_datastore(node_type: str) -> bool:
    match = _CACHE_NODE_TYPE.match(node_type)
    return match is not None and match.group(1) in GLOBAL_DATASTORE_FAMILIES \
        and match.group(2) not in _SMALLER_THAN_LARGE


STORE_KINDS_OF_TIER = {tier: [k for k, t in TIER_OF.items() if t is tier] for tier in Tier}


def tier_rpo(strategy: Strategy, tier: Tier, *, replication_time_control: bool = True) -> int | None:
    """The worst RPO the strategy gives a tier (None: unbounded)."""
    if tier is Tier.service:
        return 0 if strategy is not Strategy.none else None
    values = [mechanism(strategy, k, replication_time_control=replication_time_control).rpo
              for k in STORE_KINDS_OF_TIER[tier]]
    return None if any(v is None for v in values) else max(v for v in values if v is not None)


def tier_rto(strategy: Strategy, tier: Tier) -> int | None:
    if strategy is Strategy.none:
        return None
    if tier is Tier.service:
        return SERVICE_RTO[strategy][0]
    return max(mechanism(strategy, k).rto for k in STORE_KINDS_OF_TIER[tier])


_DURATION = re.compile(r"^(\d+)(s|m|h|d)$")
_UNITS = {"s": 1, "m": MINUTE, "h": HOUR, "d": 24 * HOUR}


def parse_duration(text: str) -> int:
    """``'1s'``, ``'15m'``, ``'4h'``, ``'1d'`` -> seconds."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a duration (a whole number with s, m, h or d, e.g. '15m')")
    return int(match.group(1)) * _UNITS[match.group(2)]


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return "unbounded"
    for unit, size in (("d", 24 * HOUR), ("h", HOUR), ("m", MINUTE)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def meets(achieved: int | None, target: int) -> bool:
    return achieved is not None and achieved <= target


def cheapest_meeting(tier: Tier, objective: str, target: int) -> Strategy | None:
    """The cheapest strategy whose ``objective`` ("rpo" or "rto") for ``tier`` is within ``target``."""
    for strategy in STRATEGY_ORDER:
        achieved = tier_rpo(strategy, tier) if objective == "rpo" else tier_rto(strategy, tier)
        if meets(achieved, target):
            return strategy
    return None
