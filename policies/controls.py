"""The control table: what each policy of the pack stands for, for auditors.

``python -m blueprint compliance <stack>`` reports, per policy, its control id(s), the PCI DSS
v4.0 requirements it supports and its status on the stack. What it reads from here:

- ``CONTROLS``: one entry per policy of the pack's modules (``tests/policies/test_controls.py``
  fails when a registered policy has none, so a new policy must be mapped). Policies written
  in a module but not yet listed in ``registry.py`` (API Gateway, Redshift Serverless while the
  integrator wires them) are mapped already; the report only shows registered ones. A stack
  policy's entry names the resource types it is about (``covers``); a resource policy's types
  are the ones its filter already uses (``TypedResourcePolicy.resource_types``), never
  written twice.
- The control id(s) are not repeated here: they are the description's prefix
  (``"Kinesis.1: ..."``, ``"EC2.8 / EC2.170: ..."``, ``"PCI DSS 10.5.1: ..."``), read by
  ``control_ids``.
- ``PCI_REQUIREMENTS``: requirement id -> short topic and the policy names that support it.
  A name may be one another change is adding (``PLANNED``), or one written but not yet
  registered: the report shows it as "not in the pack" until it is registered, and a
  requirement with no registered policy as "no automated check". Registering the policy (and
  giving it a ``CONTROLS`` entry) is all it takes for the report to count it.

Requirement topics: PCI DSS v4.0, PCI Security Standards Council (short topic names of the
requirements, not their full text). Control ids are AWS Security Hub controls (AWS
Foundational Security Best Practices, FSBP) unless they say otherwise (PCI DSS, CIS EKS,
PSS: Kubernetes Pod Security Standards; CI/DATA/DR/PEAK/TAG: the blueprint's own).

The type tokens come from the modules whose policies use them (and, for DR, from
``blueprint.dr``, as ``policies/resilience.py`` does), never retyped. Like the pack, this
module loads neither pydantic, the stack config nor pulumi-aws (test_registry.py checks).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from pulumi_policy import Policy

from blueprint.dr import AURORA, BACKUP_VAULT, BUCKETS, CACHE, REPLICATION, TABLE
from policies.apigateway import STAGE
from policies.cloudfront import DISTRIBUTION
from policies.config import RECORDER
from policies.ec2 import VPC
from policies.eks import CLUSTER as EKS_CLUSTER
from policies.elb import LOAD_BALANCER_TYPES
from policies.guardduty import DETECTOR
from policies.kubernetes import NAMESPACE
from policies.rds import CLUSTER as RDS_CLUSTER
from policies.s3 import BUCKET_TYPES
from policies.secrets_manager import SECRET
from policies.waf import WEB_ACL

#: The source of the requirement topics, as the report cites it.
PCI_SOURCE = "PCI DSS v4.0, PCI Security Standards Council"


@dataclass(frozen=True)
class Control:
    """What the table adds to a registered policy."""

    #: Stack policies only: the types of the resources the control is about (the ones it
    #: reports on, or whose absence makes it not applicable). None for a resource policy,
    #: whose filter already names its types.
    covers: tuple[str, ...] | None = None


@dataclass(frozen=True)
class PciRequirement:
    #: The requirement's short topic (PCI DSS v4.0, PCI Security Standards Council).
    topic: str
    #: Policy names that support it: ones the pack's modules define, or names in ``PLANNED``.
    policies: tuple[str, ...]


def control_ids(description: str) -> tuple[str, ...]:
    """The control id(s) a policy description starts with: ``"EC2.8 / EC2.170: ..."`` ->
    ``("EC2.8", "EC2.170")``; ``()`` when the description has no ``id: `` prefix."""
    prefix, separator, _ = description.partition(": ")
    if not separator:
        return ()
    return tuple(part.strip() for part in prefix.split(" / ") if part.strip())


_RESOURCE = Control()

#: Policy name -> its table entry, in the pack's order (then the modules not yet registered).
CONTROLS: Mapping[str, Control] = MappingProxyType({
    # Keys.
    "kms-key-rotation": _RESOURCE,
    "kms-key-not-public": _RESOURCE,
    "kms-key-deletion-window": _RESOURCE,
    # Network.
    "vpc-flow-logs": Control(covers=(VPC,)),
    "default-security-group-closed": _RESOURCE,
    "default-security-group-managed": Control(covers=(VPC,)),
    "subnet-no-public-ip-on-launch": _RESOURCE,
    "launch-template-imdsv2": _RESOURCE,
    "launch-template-ebs-encrypted": _RESOURCE,
    "launch-template-no-public-ip": _RESOURCE,
    "sg-unrestricted-ingress-authorized-ports": _RESOURCE,
    "sg-no-unrestricted-high-risk-ports": _RESOURCE,
    # Logs and tags.
    "log-retention-prod": _RESOURCE,
    "standard-tags": _RESOURCE,
    # S3: the bucket policies are about the buckets, whatever companion they look for.
    "s3-account-public-access-block": _RESOURCE,
    "s3-bucket-not-public": _RESOURCE,
    "s3-bucket-ssl-requests-only": Control(covers=BUCKET_TYPES),
    "s3-bucket-public-access-block": Control(covers=BUCKET_TYPES),
    "s3-bucket-access-logging": Control(covers=BUCKET_TYPES),
    "s3-bucket-acls-disabled": Control(covers=BUCKET_TYPES),
    "s3-bucket-lifecycle": Control(covers=BUCKET_TYPES),
    "s3-bucket-versioning": Control(covers=BUCKET_TYPES),
    "s3-bucket-kms-encryption": Control(covers=BUCKET_TYPES),
    # Databases and caches.
    "rds-instance-not-public": _RESOURCE,
    "rds-cluster-encrypted": _RESOURCE,
    "rds-cluster-deletion-protection-prod": _RESOURCE,
    "rds-cluster-automatic-backups": _RESOURCE,
    "rds-cluster-iam-auth": _RESOURCE,
    "rds-instance-auto-minor-version-upgrade": _RESOURCE,
    "rds-cluster-multi-az-prod": Control(covers=(RDS_CLUSTER,)),
    "rds-cluster-non-default-port": _RESOURCE,
    "rds-cluster-custom-admin-username": _RESOURCE,
    "rds-cluster-postgresql-logs": _RESOURCE,
    "rds-force-ssl": Control(covers=(RDS_CLUSTER,)),
    "secrets-managed-master-password": _RESOURCE,
    "rds-proxy-tls-required": _RESOURCE,
    "rds-proxy-iam-auth-required": _RESOURCE,
    "rds-proxy-no-debug-logging": _RESOURCE,
    "dynamodb-on-demand-capacity": _RESOURCE,
    "dynamodb-point-in-time-recovery": _RESOURCE,
    "dynamodb-deletion-protection-prod": _RESOURCE,
    "dynamodb-cmk-encryption": _RESOURCE,
    "elasticache-automatic-backups": _RESOURCE,
    "elasticache-auto-minor-version-upgrade": _RESOURCE,
    "elasticache-automatic-failover": _RESOURCE,
    "elasticache-encrypted-at-rest": _RESOURCE,
    "elasticache-encrypted-in-transit": _RESOURCE,
    "elasticache-auth": _RESOURCE,
    "elasticache-not-default-subnet-group": _RESOURCE,
    "secretsmanager-cmk-and-rotation": Control(covers=(SECRET,)),
    # Streams and the lake.
    "kinesis-stream-encrypted": _RESOURCE,
    "firehose-delivery-stream-encrypted": _RESOURCE,
    "athena-workgroup-encrypted": _RESOURCE,
    # Peak pre-warming's schedules (issue 13).
    "scheduler-target-role-bounded-retry": _RESOURCE,
    "scheduler-one-time-exact": _RESOURCE,
    # Control families.
    "control-exceptions-accepted": _RESOURCE,
    "stateful-resources-protected-prod": _RESOURCE,
    # Disaster recovery: the primary stores a strategy is declared on (blueprint.dr's kinds).
    "dr-stores-covered": Control(covers=(AURORA, TABLE, *BUCKETS, CACHE)),
    "backup-vault-cmk-encryption": _RESOURCE,
    "backup-vault-locked-prod": Control(covers=(BACKUP_VAULT,)),
    "s3-replication-time-control-prod": Control(covers=REPLICATION),
    "dr-failover-origin-group": _RESOURCE,
    # Identity.
    "iam-no-wildcard-actions": _RESOURCE,
    "iam-data-actions-on-named-stores": _RESOURCE,
    "iam-no-decrypt-on-all-keys": _RESOURCE,
    # Compute.
    "eks-endpoint-not-public": _RESOURCE,
    "eks-supported-version": _RESOURCE,
    "eks-secrets-encrypted": _RESOURCE,
    "eks-audit-logging": _RESOURCE,
    "eks-vpc-cni-network-policy": Control(covers=(EKS_CLUSTER,)),
    "k8s-pod-security-restricted": _RESOURCE,
    "k8s-namespace-restricted": _RESOURCE,
    "k8s-namespace-default-deny": Control(covers=(NAMESPACE,)),
    # Edge.
    "cloudfront-default-root-object": _RESOURCE,
    "cloudfront-viewer-https": _RESOURCE,
    "cloudfront-access-logging": Control(covers=(DISTRIBUTION,)),
    "cloudfront-waf": _RESOURCE,
    "cloudfront-custom-certificate": _RESOURCE,
    "cloudfront-sni": _RESOURCE,
    "cloudfront-origin-https": _RESOURCE,
    "cloudfront-origin-tls": _RESOURCE,
    "cloudfront-s3-origin-access-control": _RESOURCE,
    "cloudfront-oac-kms-key-admits-distribution": Control(covers=(DISTRIBUTION,)),
    "cloudfront-viewer-tls-policy": _RESOURCE,
    "alb-http-redirects-to-https": _RESOURCE,
    "alb-drop-invalid-headers": _RESOURCE,
    "alb-access-logs": _RESOURCE,
    "lb-deletion-protection-prod": _RESOURCE,
    "alb-desync-mitigation": _RESOURCE,
    "lb-multi-az": _RESOURCE,
    "alb-waf-association": Control(covers=LOAD_BALANCER_TYPES),
    "lb-listener-tls-policy": _RESOURCE,
    "lb-listener-secure-protocol": _RESOURCE,
    "waf-web-acl-has-rules": Control(covers=(WEB_ACL,)),
    "waf-web-acl-logging": Control(covers=(WEB_ACL,)),
    "waf-cloudwatch-metrics": _RESOURCE,
    # API Gateway (policies/apigateway.py).
    "apigateway-execution-logging": Control(covers=(STAGE,)),
    "apigateway-domain-tls": _RESOURCE,
    "apigateway-xray": _RESOURCE,
    "apigateway-stage-waf": Control(covers=(STAGE,)),
    "apigateway-cache-encryption": Control(covers=(STAGE,)),
    "apigateway-api-authorization": _RESOURCE,
    "apigateway-method-authorization": _RESOURCE,
    "apigateway-access-logging": _RESOURCE,
    # Redshift Serverless (policies/redshift_serverless.py).
    "redshift-serverless-enhanced-vpc-routing": _RESOURCE,
    "redshift-serverless-require-ssl": _RESOURCE,
    "redshift-serverless-not-public": _RESOURCE,
    "redshift-serverless-encrypted": _RESOURCE,
    "redshift-serverless-non-default-admin": _RESOURCE,
    "redshift-serverless-audit-logging": _RESOURCE,
    # Audit and detection (policies/cloudtrail.py, config.py, guardduty.py, audit_bucket.py).
    "cloudtrail-multi-region": _RESOURCE,
    "cloudtrail-kms-encryption": _RESOURCE,
    "cloudtrail-log-file-validation": _RESOURCE,
    "cloudtrail-cloudwatch-logs": _RESOURCE,
    "config-recorder-all-supported": _RESOURCE,
    "config-recorder-delivers-and-runs": Control(covers=(RECORDER,)),
    "guardduty-detector-enabled": _RESOURCE,
    "guardduty-protection-features": Control(covers=(DETECTOR,)),
    "audit-bucket-object-lock": Control(covers=BUCKET_TYPES),
    # Alarms (policies/sns.py, cloudwatch.py).
    "sns-topic-encrypted": _RESOURCE,
    "cloudwatch-alarm-has-action": _RESOURCE,
    "cloudwatch-alarm-actions-enabled": _RESOURCE,
    # CI's identity (policies/github_oidc.py).
    "iam-github-oidc-trust-scoped": _RESOURCE,
})

#: Policies other changes are adding now (name -> control id). The report names them "not in
#: the pack" until they are registered; once registered they count like any other, and
#: tests/policies/test_controls.py asks for the name to leave this list.
PLANNED: Mapping[str, str] = MappingProxyType({})

#: PCI DSS v4.0 requirements the infrastructure meets (topics: PCI DSS v4.0, PCI Security
#: Standards Council), each with the policies whose resources meet it. Requirements about
#: people and process (training, policies, MFA through the identity provider) are not here:
#: no infrastructure check can show them.
PCI_REQUIREMENTS: Mapping[str, PciRequirement] = MappingProxyType({
    "1.3": PciRequirement(
        "Network access to and from the cardholder data environment is restricted",
        ("default-security-group-closed", "default-security-group-managed", "subnet-no-public-ip-on-launch",
         "launch-template-no-public-ip", "rds-instance-not-public", "elasticache-not-default-subnet-group",
         "eks-endpoint-not-public", "eks-vpc-cni-network-policy", "k8s-namespace-default-deny",
         "s3-account-public-access-block", "s3-bucket-not-public", "s3-bucket-public-access-block",
         "kms-key-not-public", "redshift-serverless-not-public", "redshift-serverless-enhanced-vpc-routing"),
    ),
    "1.4": PciRequirement(
        "Network connections between trusted and untrusted networks are controlled",
        ("sg-unrestricted-ingress-authorized-ports", "sg-no-unrestricted-high-risk-ports",
         "subnet-no-public-ip-on-launch", "launch-template-no-public-ip", "rds-instance-not-public",
         "eks-endpoint-not-public", "cloudfront-s3-origin-access-control", "redshift-serverless-not-public"),
    ),
    "2.2": PciRequirement(
        "System components are configured and managed securely (vendor defaults changed, only "
        "necessary services)",
        ("launch-template-imdsv2", "rds-cluster-non-default-port", "rds-cluster-custom-admin-username",
         "k8s-pod-security-restricted", "k8s-namespace-restricted", "alb-drop-invalid-headers",
         "alb-desync-mitigation", "s3-bucket-acls-disabled", "redshift-serverless-non-default-admin"),
    ),
    "3.5.1": PciRequirement(
        "PAN is rendered unreadable anywhere it is stored (strong cryptography)",
        ("s3-bucket-kms-encryption", "rds-cluster-encrypted", "dynamodb-cmk-encryption",
         "elasticache-encrypted-at-rest", "kinesis-stream-encrypted", "firehose-delivery-stream-encrypted",
         "athena-workgroup-encrypted", "launch-template-ebs-encrypted", "backup-vault-cmk-encryption",
         "eks-secrets-encrypted", "redshift-serverless-encrypted", "apigateway-cache-encryption",
         "sns-topic-encrypted"),
    ),
    "3.6.1": PciRequirement(
        "Cryptographic keys used to protect stored account data are protected against disclosure and misuse",
        ("kms-key-not-public", "kms-key-deletion-window", "iam-no-decrypt-on-all-keys"),
    ),
    "3.7.4": PciRequirement(
        "Cryptographic keys are changed at the end of their cryptoperiod",
        ("kms-key-rotation",),
    ),
    "4.2.1": PciRequirement(
        "Strong cryptography and security protocols safeguard PAN during transmission over open, "
        "public networks",
        ("cloudfront-viewer-https", "cloudfront-viewer-tls-policy", "cloudfront-custom-certificate",
         "cloudfront-sni", "cloudfront-origin-https", "cloudfront-origin-tls", "alb-http-redirects-to-https",
         "lb-listener-secure-protocol", "lb-listener-tls-policy", "s3-bucket-ssl-requests-only",
         "rds-force-ssl", "rds-proxy-tls-required", "elasticache-encrypted-in-transit",
         "redshift-serverless-require-ssl",
         "apigateway-domain-tls"),
    ),
    "6.3.3": PciRequirement(
        "System components are protected from known vulnerabilities by installing security patches",
        ("eks-supported-version", "rds-instance-auto-minor-version-upgrade",
         "elasticache-auto-minor-version-upgrade"),
    ),
    "6.4.2": PciRequirement(
        "An automated technical solution detects and prevents web-based attacks on public-facing "
        "web applications",
        ("cloudfront-waf", "alb-waf-association", "apigateway-stage-waf", "waf-web-acl-has-rules",
         "waf-cloudwatch-metrics"),
    ),
    "7.2": PciRequirement(
        "Access to system components and data is appropriately defined and assigned (least privilege)",
        ("iam-no-wildcard-actions", "iam-data-actions-on-named-stores", "iam-no-decrypt-on-all-keys",
         "s3-bucket-acls-disabled", "apigateway-api-authorization", "apigateway-method-authorization"),
    ),
    "8.3": PciRequirement(
        "Strong authentication for users and administrators is established and managed",
        ("rds-cluster-iam-auth", "rds-proxy-iam-auth-required", "elasticache-auth"),
    ),
    "8.6": PciRequirement(
        "Use of application and system accounts and their authentication factors is strictly managed "
        "(no hard-coded passwords, passwords changed periodically)",
        ("secrets-managed-master-password", "secretsmanager-cmk-and-rotation", "iam-github-oidc-trust-scoped"),
    ),
    "10.2.1": PciRequirement(
        "Audit logs are enabled and active for all system components and cardholder data",
        ("cloudtrail-multi-region", "vpc-flow-logs", "eks-audit-logging", "rds-cluster-postgresql-logs",
         "s3-bucket-access-logging", "cloudfront-access-logging", "alb-access-logs", "waf-web-acl-logging",
         "apigateway-execution-logging", "apigateway-access-logging", "redshift-serverless-audit-logging"),
    ),
    "10.3": PciRequirement(
        "Audit logs are protected from destruction and unauthorized modifications",
        ("cloudtrail-kms-encryption", "cloudtrail-log-file-validation", "audit-bucket-object-lock",
         "stateful-resources-protected-prod"),
    ),
    "10.4.1": PciRequirement(
        "Audit logs are reviewed (automated mechanisms)",
        ("cloudtrail-cloudwatch-logs", "guardduty-detector-enabled", "cloudwatch-alarm-has-action",
         "cloudwatch-alarm-actions-enabled"),
    ),
    "10.5.1": PciRequirement(
        "Audit log history is retained for at least 12 months, the most recent three months immediately "
        "available",
        ("log-retention-prod",),
    ),
    "11.5.1": PciRequirement(
        "Intrusion-detection and/or intrusion-prevention techniques detect and/or prevent intrusions "
        "into the network",
        ("guardduty-detector-enabled", "guardduty-protection-features"),
    ),
    "11.5.2": PciRequirement(
        "A change-detection mechanism alerts on unauthorized modification of critical files and "
        "configuration",
        ("config-recorder-all-supported", "config-recorder-delivers-and-runs", "cloudtrail-log-file-validation"),
    ),
    "12.5.1": PciRequirement(
        "An inventory of system components in scope for PCI DSS is maintained",
        ("standard-tags",),
    ),
})


#: Modules of the package that define no policies of their own.
_NOT_RULE_MODULES = frozenset({"__main__", "_helpers", "_taggable", "controls", "offline", "registry"})


@cache
def defined_policies() -> Mapping[str, Policy]:
    """Every policy the pack's modules define (``policies/<service>.py``'s ``POLICIES``),
    registered in ``registry.py`` or not yet. ``__main__`` is never imported: it starts the
    policy server."""
    import policies

    found: dict[str, Policy] = {}
    for module in pkgutil.iter_modules(policies.__path__):
        if module.name in _NOT_RULE_MODULES:
            continue
        for policy in getattr(importlib.import_module(f"policies.{module.name}"), "POLICIES", ()):
            found[policy.name] = policy
    return MappingProxyType(found)


def expected_control(policy: str) -> str:
    """The control id(s) of a policy that may not be registered: from its description when a
    module defines it, else from ``PLANNED``."""
    defined = defined_policies().get(policy)
    if defined is not None:
        return " / ".join(control_ids(defined.description))
    return PLANNED.get(policy, "unknown")


def pci_requirements_of(policy: str) -> tuple[str, ...]:
    """The PCI DSS v4.0 requirement ids ``policy`` supports, in table order."""
    return tuple(req for req, requirement in PCI_REQUIREMENTS.items() if policy in requirement.policies)
