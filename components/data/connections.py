"""How many connections Aurora PostgreSQL and its RDS Proxy take: pure arithmetic the
capacity planner's connection budget calls (peak replicas x pool size per service against
these limits).

Aurora PostgreSQL's default ``max_connections`` is ``LEAST({DBInstanceClassMemory/9531392},
5000)``. On Aurora Serverless v2 the memory in that formula is the memory at the cluster's
*maximum* ACU setting, not the current capacity: the limit is fixed when the instance starts
and does not grow while it scales (AWS: "Performance and scaling for Aurora Serverless v2",
section "Maximum connections for Aurora Serverless v2", Amazon Aurora User Guide). Raising the
minimum ACU for a peak therefore buys CPU and buffer cache, never connections; only the
maximum (or a larger provisioned class) does, and changing it needs a reboot to take effect.

The table below is AWS's published default for Aurora PostgreSQL by maximum ACU.
DBInstanceClassMemory is less than 2 GiB per ACU (RDS keeps some for the OS and its agents),
which is why the values are below ``acu * 2 GiB / 9531392``. Between two published points the
lower one is used: a budget checked against it can only be conservative.

A minimum capacity below 1 ACU (0 or 0.5) caps the default at 2,000, whatever the maximum
(AWS re:Post, "Working of max_connections for Amazon Aurora PostgreSQL Serverless", quoting the
same user-guide section). ``max_connections`` is static: it is the value at the instance's last
reboot, so pass the cluster's configured minimum, never a peak event's raised one.
"""

from __future__ import annotations

import math

#: max ACU -> default max_connections of Aurora PostgreSQL (AWS, "Performance and scaling for
#: Aurora Serverless v2", table "Maximum connections for Aurora Serverless v2").
SERVERLESS_V2_MAX_CONNECTIONS: tuple[tuple[float, int], ...] = (
    (1, 189),
    (4, 823),
    (8, 1669),
    (16, 3360),
    (32, 5000),
    (64, 5000),
    (128, 5000),
    (256, 5000),
)
#: The cap when the minimum capacity is below 1 ACU (0 or 0.5).
LOW_MINIMUM_CAP = 2000
LOW_MINIMUM_BELOW_ACU = 1
#: The ceiling of the default formula (``LEAST(..., 5000)``).
AURORA_POSTGRES_MAX_CONNECTIONS_CAP = 5000
#: Bytes of instance memory per default connection in the formula.
BYTES_PER_CONNECTION = 9531392
MIN_MAX_ACU = 1
MAX_MAX_ACU = 256


def aurora_max_connections(acu: float, *, min_acu: float = 1) -> int:
    """Default ``max_connections`` of an Aurora PostgreSQL Serverless v2 instance whose
    *maximum* capacity is ``acu`` (the published value at or below it), capped at 2,000 when
    the configured minimum ``min_acu`` is below 1 ACU."""
    for label, value in (("acu", acu), ("min_acu", min_acu)):
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            raise TypeError(f"{label} must be a number of ACUs, not {value!r}")
    if not MIN_MAX_ACU <= acu <= MAX_MAX_ACU:
        raise ValueError(f"maximum capacity {acu:g} ACU is outside Aurora Serverless v2's range for a maximum "
                         f"({MIN_MAX_ACU}-{MAX_MAX_ACU}); max_connections is derived from the maximum ACU")
    if not 0 <= min_acu <= acu:
        raise ValueError(f"minimum capacity {min_acu:g} ACU must be between 0 and the maximum ({acu:g})")
    limit = max(limit for ceiling, limit in SERVERLESS_V2_MAX_CONNECTIONS if ceiling <= acu)
    return min(limit, LOW_MINIMUM_CAP) if min_acu < LOW_MINIMUM_BELOW_ACU else limit


def provisioned_max_connections(instance_memory_bytes: int) -> int:
    """Default ``max_connections`` of a provisioned Aurora PostgreSQL instance, from its
    DBInstanceClassMemory (the formula itself, for classes with a known memory)."""
    if instance_memory_bytes <= 0:
        raise ValueError(f"instance memory must be positive, not {instance_memory_bytes}")
    return min(instance_memory_bytes // BYTES_PER_CONNECTION, AURORA_POSTGRES_MAX_CONNECTIONS_CAP)


def proxy_connection_limit(aurora_max_connections: int, max_connections_percent: int) -> int:
    """Connections RDS Proxy opens to the writer at most: ``max_connections_percent`` of the
    database's ``max_connections`` (MaxConnectionsPercent of the proxy's target group, rounded
    down). Clients beyond it wait up to the borrow timeout for a pooled connection."""
    if aurora_max_connections < 1:
        raise ValueError(f"aurora_max_connections must be at least 1, not {aurora_max_connections}")
    if not 1 <= max_connections_percent <= 100:
        raise ValueError(f"max_connections_percent must be 1-100, not {max_connections_percent}")
    return aurora_max_connections * max_connections_percent // 100
