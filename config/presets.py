"""Environment presets: what every dev, staging and prod stack starts from."""

from __future__ import annotations

import hashlib
from typing import Any

from components.common.settings import Environment

#: The retail tables every environment starts with.
DEFAULT_TABLES: list[dict[str, Any]] = [
    # Carts and sessions expire on their own: abandoned carts must not pile up for ever.
    {"name": "carts", "partitionKey": {"name": "cartId", "type": "S"}, "ttlAttribute": "expiresAt"},
    {"name": "sessions", "partitionKey": {"name": "sessionId", "type": "S"}, "ttlAttribute": "expiresAt"},
    # Stock changes stream out to the warehouse and to cache invalidation.
    {"name": "inventory", "partitionKey": {"name": "sku", "type": "S"},
     "sortKey": {"name": "warehouseId", "type": "S"}, "stream": "NEW_AND_OLD_IMAGES"},
    {"name": "orders", "partitionKey": {"name": "orderId", "type": "S"},
     "globalSecondaryIndexes": [{"name": "byCustomer", "partitionKey": {"name": "customerId", "type": "S"},
                                 "sortKey": {"name": "createdAt", "type": "S"}}]},
]


def _buckets(noncurrent_days: int, logs: dict[str, Any], backups: dict[str, Any]) -> dict[str, Any]:
    return {
        "assets": {"noncurrentVersionExpirationDays": noncurrent_days},
        "dataLake": {"noncurrentVersionExpirationDays": noncurrent_days},
        "logs": {"noncurrentVersionExpirationDays": noncurrent_days, **logs},
        "backups": {"noncurrentVersionExpirationDays": noncurrent_days, **backups},
    }


def _kubernetes(nodes: tuple[str, int, int, int], families: list[str], capacity: list[str], cpu: int,
                memory: int, quotas: dict[str, tuple[str, str, int]]) -> dict[str, Any]:
    instance_type, low, desired, high = nodes
    return {
        "version": "1.35",
        # Private by default: kubectl from inside the VPC (VPN, SSM); a stack opens the public
        # endpoint to named CIDRs only.
        "publicEndpoint": False,
        "systemNodes": {"instanceType": instance_type, "minSize": low, "desiredSize": desired, "maxSize": high},
        "karpenter": {"version": "1.8.1", "instanceFamilies": families, "capacityTypes": capacity,
                      "cpuLimit": cpu, "memoryLimitGi": memory},
        # Quotas cover every service of the team at maxReplicas plus a 25% rollout surge.
        "teams": [{"name": team, "cpuQuota": cpu_quota, "memoryQuota": memory_quota, "maxPods": pods}
                  for team, (cpu_quota, memory_quota, pods) in quotas.items()],
    }


def _image(name: str, pinned: bool) -> str:
    """The example image of a service. Prod pins it by digest as well as tag (a tag can be
    pushed again); the digests here are placeholders, like the registry: use your images'."""
    image = f"registry.example.com/retail/{name}:1.0.0"
    return f"{image}@sha256:{hashlib.sha256(image.encode()).hexdigest()}" if pinned else image


def _streams(retention_hours: int, enhanced_monitoring: bool) -> dict[str, Any]:
    """Clickstream and order events, and the inventory table's changes: kept long enough to
    replay a day's (dev), a few days' (staging) or a week's (prod) events into the lake."""
    return {"streams": [{"name": name, "retentionHours": retention_hours}
                        for name in ("clickstream", "orders", "inventory-changes")],
            "enhancedMonitoring": enhanced_monitoring}


def _warehouse(base: int, most: int, rpu_hours: int, breach: str, enabled: bool = True) -> dict[str, Any]:
    """Redshift Serverless: capacity and a monthly RPU-hour budget; orders (SQL and DynamoDB)
    and stock reach it by zero-ETL."""
    return {"enabled": enabled, "baseCapacity": base, "maxCapacity": most, "usageLimitRpuHours": rpu_hours,
            "usageLimitPeriod": "monthly", "breachAction": breach, "adminUsername": "wh_owner",
            "databaseName": "analytics"}


#: Partner tiers: a marketplace syncing stock every minute fits in premium; a carrier polling
#: order status fits in standard.
_API_TIERS = [
    {"name": "standard", "quota": {"limit": 100_000, "period": "DAY"}, "throttle": {"rateLimit": 20, "burstLimit": 40}},
    {"name": "premium", "quota": {"limit": 2_000_000, "period": "DAY"},
     "throttle": {"rateLimit": 200, "burstLimit": 400}},
]


def _api(log_level: str, retention_days: int) -> dict[str, Any]:
    """The partner API v1: which service answers each operation, tiers, and the catalogue export
    (a full scan) held to a couple of calls a second."""
    return {"backends": {"getInventory": "catalog", "getCatalogue": "catalog", "getOrderStatus": "checkout"},
            "tiers": _API_TIERS,
            "methodThrottling": [{"path": "/catalogue", "method": "GET",
                                  "throttle": {"rateLimit": 2, "burstLimit": 5}}],
            "executionLogLevel": log_level, "logRetentionDays": retention_days}


def _services(replicas: dict[str, tuple[int, int]], cpu: str, memory: str,
              pinned: bool = False) -> list[dict[str, Any]]:
    shape = {
        # name: (team, path, callers)
        "storefront": ("storefront", "/", []),
        "catalog": ("storefront", "/catalog", ["storefront"]),
        "cart": ("storefront", "/cart", ["storefront", "checkout"]),
        "checkout": ("checkout", "/checkout", ["storefront"]),
    }
    # What each service reads and writes; undeclared means no access (no grant, no port).
    uses: dict[str, dict[str, Any]] = {
        # The storefront keeps sessions and serves pages from the cache.
        "storefront": {"tables": {"sessions": "readWrite"}, "cache": True, "streams": {"clickstream": "write"}},
        # The catalogue shows stock and product media.
        "catalog": {"tables": {"inventory": "read"}, "buckets": {"assets": "read"}},
        "cart": {"tables": {"carts": "readWrite"}, "cache": True},
        # Checkout records orders, reserves stock and writes the payment ledger in SQL.
        "checkout": {"tables": {"orders": "readWrite", "inventory": "readWrite"},
                     "sql": {"user": "checkout_app"}, "streams": {"orders": "write"}},
    }
    return [
        {"name": name, "team": team, "image": _image(name, pinned), "cpu": cpu, "memory": memory,
         "minReplicas": replicas[name][0], "maxReplicas": replicas[name][1], "path": path, "callers": callers,
         "uses": uses[name]}
        for name, (team, path, callers) in shape.items()
    ]


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
        "storage": {"buckets": _buckets(30, logs={"expirationDays": 90}, backups={})},
        "sql": {"engineVersion": "16.4", "instanceClass": "db.serverless", "minAcu": 0.5, "maxAcu": 4,
                "instances": 1, "backupRetentionDays": 7},
        "nosql": {"tables": DEFAULT_TABLES},
        "cache": {"engineVersion": "8.0", "nodeType": "cache.t4g.small", "nodes": 1, "snapshotRetentionDays": 1},
        "kubernetes": _kubernetes(("t4g.medium", 2, 2, 3), ["t4g", "m7g"], ["spot"], 32, 64,
                                  {"storefront": ("8", "16Gi", 50), "checkout": ("4", "8Gi", 20)}),
        "services": _services({"storefront": (1, 2), "catalog": (1, 2), "cart": (1, 2), "checkout": (1, 2)},
                              "250m", "256Mi"),
        "edge": {"rateLimit": 2000, "priceClass": "PriceClass_100"},
        "dr": {"strategy": "none", "faultInjection": True},
        "streams": _streams(24, enhanced_monitoring=False),
        "lake": {"bytesScannedCutoffMib": 1024},
        # Off: Redshift Serverless needs three AZs and dev has two. Turn it on with azCount 3.
        "warehouse": _warehouse(8, 32, 200, "deactivate", enabled=False),
        # Off: the API's private TLS path needs retail:edge.domain, which dev stacks rarely have.
        "api": {**_api("INFO", 30), "enabled": False},
        # A day of Object Lock: dev is torn down, and a compliance-mode lock cannot be lifted.
        "audit": {"objectLockRetentionDays": 1, "findingPublishingFrequency": "SIX_HOURS"},
        # Dev deploys on every push to main (no environment, no reviewer).
        "ci": {"environments": [], "deployFromBranches": True},
    },
    Environment.staging: {
        "network": {
            "cidr": "10.20.0.0/16",
            "azCount": 3,
            "natStrategy": "single",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 90,
        },
        "storage": {"buckets": _buckets(30, logs={"expirationDays": 180}, backups={})},
        "sql": {"engineVersion": "16.4", "instanceClass": "db.serverless", "minAcu": 0.5, "maxAcu": 16,
                "instances": 2, "backupRetentionDays": 14, "maxReaders": 3,
                # Rehearses prod's path: every service connection through RDS Proxy.
                "proxy": {"enabled": True}},
        "nosql": {"tables": DEFAULT_TABLES},
        "cache": {"engineVersion": "8.0", "nodeType": "cache.t4g.medium", "nodes": 2, "snapshotRetentionDays": 3},
        "kubernetes": _kubernetes(("m7g.large", 2, 2, 4), ["m7g", "c7g"], ["spot", "on-demand"], 128, 256,
                                  {"storefront": ("40", "80Gi", 100), "checkout": ("20", "40Gi", 50)}),
        "services": _services({"storefront": (2, 6), "catalog": (2, 6), "cart": (2, 6), "checkout": (2, 6)},
                              "500m", "512Mi"),
        "edge": {"rateLimit": 2000, "priceClass": "PriceClass_100", "botControl": True},
        # Rehearses recovery from copied backups: hours, at the price of the copies.
        "streams": _streams(72, enhanced_monitoring=False),
        "warehouse": _warehouse(8, 64, 500, "emit-metric"),
        "api": _api("INFO", 90),
        "audit": {"objectLockRetentionDays": 30, "findingPublishingFrequency": "ONE_HOUR"},
        "ci": {"environments": ["staging"]},
        "dr": {"strategy": "backup-restore", "region": "eu-central-1", "faultInjection": True,
               "targets": {"databases": {"rpo": "2h", "rto": "4h"}, "objects": {"rpo": "2h", "rto": "4h"},
                           "service": {"rto": "8h"}}},
    },
    Environment.prod: {
        "network": {
            "cidr": "10.30.0.0/16",
            "azCount": 3,
            "natStrategy": "perAz",
            "interfaceEndpoints": True,
            "flowLogRetentionDays": 365,
        },
        # Logs stay in S3 Standard for a year (PCI DSS 10.5.1: immediately available), then
        # Glacier until seven years; backups are write-once.
        "storage": {"buckets": _buckets(
            90,
            logs={"glacierTransitionDays": 365, "expirationDays": 2557},
            backups={"objectLock": True, "objectLockRetentionDays": 35},
        )},
        # A writer and two readers, one per AZ; readers scale out for peaks.
        "sql": {"engineVersion": "16.4", "instanceClass": "db.serverless", "minAcu": 2, "maxAcu": 64,
                "instances": 3, "backupRetentionDays": 35, "maxReaders": 8,
                "performanceInsightsRetentionDays": 31,
                # A peak multiplies pods, each with its pool: the proxy holds the connections to
                # the writer to 90% of max_connections (the planner's budget) and queues the rest.
                "proxy": {"enabled": True, "maxConnectionsPercent": 90, "maxIdleConnectionsPercent": 50,
                          "borrowTimeoutSeconds": 120}},
        "nosql": {"tables": DEFAULT_TABLES},
        "cache": {"engineVersion": "8.0", "nodeType": "cache.r7g.large", "nodes": 3, "snapshotRetentionDays": 7},
        # Karpenter may grow to 1,000 vCPUs for a Black Friday peak; on-demand first, spot for
        # the surge.
        "kubernetes": _kubernetes(("m7g.large", 3, 3, 6), ["m7g", "c7g", "r7g"], ["on-demand", "spot"], 1000, 2000,
                                  {"storefront": ("500", "500Gi", 500), "checkout": ("80", "80Gi", 100)}),
        "services": _services({"storefront": (6, 200), "catalog": (3, 100), "cart": (3, 100),
                               "checkout": (3, 60)}, "1", "1Gi", pinned=True),
        "edge": {"rateLimit": 2000, "priceClass": "PriceClass_200", "botControl": True, "anonymousIp": True},
        # A region outage on a peak day costs minutes, and seconds of orders at most. Another
        # EU region keeps customer data in the EU (GDPR).
        # Shard-level metrics: a hot shard on a peak day shows before records are throttled.
        "streams": _streams(168, enhanced_monitoring=True),
        "lake": {"bufferingSizeMib": 128},
        # Month-end and peak-season reports may run long: alert, never stop them.
        "warehouse": _warehouse(32, 256, 5000, "emit-metric"),
        "api": _api("ERROR", 365),
        "audit": {"objectLockRetentionDays": 365, "findingPublishingFrequency": "FIFTEEN_MINUTES"},
        # Prod deploys only from the approved `prod` environment.
        "ci": {"environments": ["prod"]},
        # Known peaks: every layer is warm 4h (3h) before, within the bounds above (checked by the
        # planner, components/peaks/planner.py); 4h covers the ALB's LCU reservation, which AWS
        # fulfils in minutes but may take a few hours.
        "peakEvents": [
            {"name": "black-friday", "start": "2026-11-27T00:00Z", "end": "2026-11-30T23:59Z", "leadTime": "4h",
             "multiplier": 10},
            {"name": "summer-sale", "start": "2027-07-01T06:00Z", "end": "2027-07-04T22:00Z", "leadTime": "3h",
             "multiplier": 4},
        ],
        "dr": {"strategy": "warm-standby", "region": "eu-central-1", "cidr": "10.31.0.0/16",
               "targets": {"databases": {"rpo": "1s", "rto": "1m"}, "objects": {"rpo": "15m", "rto": "5m"},
                           "service": {"rto": "5m"}}},
    },
}

