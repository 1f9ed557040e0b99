"""What AWS accepts: limits, allowed values and supported versions.

Plain constants, importable without pydantic or Pulumi, so that the stack-config validation
and the policy pack read the same facts and cannot drift apart.
"""

import re

#: CloudWatch Logs accepts only these retention periods (days). "Never expire" is not
#: offered: unbounded retention is a cost nobody decided on.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
    2557, 2922, 3288, 3653,
)

#: Aurora's default PostgreSQL port; RDS.23 asks for another one.
POSTGRES_DEFAULT_PORT = 5432

#: Names AWS or PostgreSQL reserve, or that RDS.24 flags as default admin names.
RESERVED_DB_USERNAMES: tuple[str, ...] = ("postgres", "admin", "root", "rdsadmin", "rds_superuser")

#: Performance Insights keeps 7 days free, or whole months (31 days each) up to two years.
PERFORMANCE_INSIGHTS_RETENTION_DAYS: tuple[int, ...] = (7, *range(31, 31 * 23 + 1, 31), 731)

#: EKS versions in standard support (EKS.2). Update as EKS moves: an unsupported version is
#: refused at validation, before a cluster is built on it, and by the pack.
SUPPORTED_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.34", "1.35", "1.36")

#: WAF rate-based rules count requests per client IP over a five-minute window; 10 is the
#: lowest limit AWS accepts.
MIN_RATE_LIMIT = 10

#: ElastiCache engine versions (major.minor) each engine offers. Valkey started at 7.2; Redis
#: OSS stops at 7.1 (AWS moved new development to Valkey).
VALKEY_VERSIONS: tuple[str, ...] = ("7.2", "8.0", "8.1")
REDIS_VERSIONS: tuple[str, ...] = ("6.0", "6.2", "7.0", "7.1")
CACHE_ENGINE_VERSIONS: dict[str, tuple[str, ...]] = {"valkey": VALKEY_VERSIONS, "redis": REDIS_VERSIONS}

#: WAF rate-based rules accept at most this many requests per evaluation window.
MAX_RATE_LIMIT = 2_000_000_000

#: AWS tag values: at most 256 characters of letters, digits, spaces and _ . : / = + - @.
MAX_TAG_VALUE_LENGTH = 256
TAG_VALUE_PUNCTUATION = "_.:/=+-@ "


def supports_pod_security_groups(instance_family: str) -> bool:
    """Whether nodes of ``instance_family`` can carry pods with their own security groups (a
    trunk network interface). AWS: most Nitro families from the 5th generation on; none of the
    burstable ``t`` family, nor the Xen-based generations before it. The VPC resource
    controller's instance limits table is the authority; this is its rule of thumb."""
    match = re.match(r"^([a-z]+)(\d+)", instance_family)
    return match is not None and not match.group(1).startswith("t") and int(match.group(2)) >= 5
