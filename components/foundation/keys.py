"""Customer-managed KMS keys, one per data domain.

One key per domain (customer data, logs, secrets) so that a grant to read logs never
lets anyone decrypt customer data, and so that each key's policy names only the services
that domain needs (PCI DSS 3.6.1: keys restricted to the fewest custodians).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pulumi
import pulumi_aws as aws

from components.common.admission import Admissions, refuse_unknown
from components.common.compliance import KMS_DELETION_WINDOW_DAYS
from components.common.context import StackContext
from components.common.grants import policy_document

DELETION_WINDOW_DAYS = KMS_DELETION_WINDOW_DAYS

#: PCI DSS 3.7.4 asks for a defined cryptoperiod; yearly is AWS's default and the CIS benchmark's.
ROTATION_PERIOD_DAYS = 365

_KEY_USE_ACTIONS = [
    "kms:Encrypt*",
    "kms:Decrypt*",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
    "kms:Describe*",
]


def _account_root_statement(partition: str, account_id: str) -> dict[str, Any]:
    # Delegates the key to the account's IAM policies: without it only this key policy could
    # ever grant access, and a mistake in it would lock the key out for good.
    return {
        "Sid": "EnableIamPoliciesOfThisAccount",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "kms:*",
        "Resource": "*",
    }


def _cloudwatch_logs_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # CloudWatch Logs encrypts as itself, not as the caller, so it needs a key-policy grant;
    # the encryption-context condition limits it to this account's log groups.
    return {
        "Sid": "AllowCloudWatchLogsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": [f"logs.{region}.amazonaws.com" for region in regions]},
        "Action": _KEY_USE_ACTIONS,
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": [
                    f"arn:{partition}:logs:{region}:{account_id}:log-group:*" for region in regions
                ]
            }
        },
    }


def _cloudtrail_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # CloudTrail encrypts log files as itself (the trail's KmsKeyId), so it needs a key-policy
    # grant. The encryption context names the trail; requiring it to be one of this account's
    # trails, made by this account (aws:SourceAccount), keeps another account's trail from
    # encrypting with our key (AWS CloudTrail User Guide, "Configure AWS KMS key policies for
    # CloudTrail"). A multi-Region trail's regions all encrypt in the bucket's region: the
    # context is matched for any region.
    return {
        "Sid": "AllowCloudTrailOfThisAccountToEncrypt",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:GenerateDataKey*",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {
                "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{partition}:cloudtrail:*:{account_id}:trail/*"},
        },
    }


def _cloudtrail_describe_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # CloudTrail checks the key when a trail is created or updated; DescribeKey carries no
    # encryption context, so it cannot share the statement above.
    return {
        "Sid": "AllowCloudTrailOfThisAccountToDescribeKey",
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "kms:DescribeKey",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


def _guardduty_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # GuardDuty encrypts the findings it exports to the audit bucket as itself; only this
    # account's detectors in the stack's regions (Amazon GuardDuty User Guide, "Exporting findings").
    return {
        "Sid": "AllowGuardDutyOfThisAccountToExportFindings",
        "Effect": "Allow",
        "Principal": {"Service": "guardduty.amazonaws.com"},
        "Action": "kms:GenerateDataKey",
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": [f"arn:{partition}:guardduty:{region}:{account_id}:detector/*"
                                          for region in regions]},
        },
    }


#: The service-linked roles that launch instances for EKS managed node groups and Karpenter
#: (EC2 Fleet). Their volumes are encrypted with the data key, and a service-linked role can
#: be given no IAM policy: only the key policy can let them use it.
_INSTANCE_LAUNCH_ROLES = (
    "role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling",
    "role/aws-service-role/ec2fleet.amazonaws.com/AWSServiceRoleForEC2Fleet",
)


def _instance_launch_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # Named by aws:PrincipalArn rather than as principals: KMS refuses a key policy whose
    # principal does not exist yet, and a new account has these roles only after its first
    # Auto Scaling group or fleet. The conditions keep it to those roles, in this account,
    # through EC2.
    return {
        "Sid": "AllowInstanceLaunchRolesToEncryptVolumes",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
                   "kms:CreateGrant"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"kms:CallerAccount": account_id,
                             "kms:ViaService": [f"ec2.{region}.amazonaws.com" for region in regions]},
            "ArnLike": {"aws:PrincipalArn": [f"arn:{partition}:iam::{account_id}:{role}"
                                             for role in _INSTANCE_LAUNCH_ROLES]},
        },
    }


def _zero_etl_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # A zero-ETL integration encrypted with a customer key: Redshift decrypts the replicated
    # data and makes grants on the key as itself (there is no caller to act through), for this
    # account's integrations only (Aurora's are rds:…:integration, DynamoDB's redshift:…).
    return {
        "Sid": "AllowRedshiftZeroEtlIntegrationsOfThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": "redshift.amazonaws.com"},
        "Action": ["kms:Decrypt", "kms:CreateGrant"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {"aws:SourceAccount": account_id},
            "ArnLike": {"aws:SourceArn": [f"arn:{partition}:{service}:{region}:{account_id}:integration:*"
                                          for region in regions for service in ("rds", "redshift")]},
        },
    }


#: What CloudWatch needs of the key of an SSE-KMS topic its alarms publish to (AWS: "configure a
#: CloudWatch alarm with an encrypted SNS topic"). alias/aws/sns cannot be used: its policy does
#: not admit CloudWatch and cannot be edited.
CLOUDWATCH_ALARM_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def _cloudwatch_alarms_statement(partition: str, account_id: str, regions: Sequence[str]) -> dict[str, Any]:
    # CloudWatch publishes alarm notifications as itself, so only the key policy can admit it.
    # No condition, as AWS documents it: kms:CallerAccount is CloudWatch's account, not ours (it
    # breaks delivery), and AWS documents no aws:SourceArn/SourceAccount on these KMS calls. That
    # is why the statement lives on a key of its own (the alarms domain), which encrypts nothing
    # but alarm notifications: the topic policy is the gate that only our alarms may publish.
    return {
        "Sid": "AllowCloudWatchAlarmsToPublishToEncryptedTopics",
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": list(CLOUDWATCH_ALARM_KEY_ACTIONS),
        "Resource": "*",
    }


StatementBuilder = Callable[[str, str, Sequence[str]], dict[str, Any]]


@dataclass(frozen=True)
class KeyDomain:
    name: str
    description: str
    service_statements: tuple[StatementBuilder, ...] = field(default=())


#: The domains every stack gets. Services that use a key with the caller's own credentials
#: (S3, RDS, DynamoDB, Secrets Manager) need no key-policy statement: grants to the caller's
#: role cover them.
KEY_DOMAINS: tuple[KeyDomain, ...] = (
    KeyDomain("data", "Customer and business data at rest: buckets, databases, tables, cache, volumes.",
              (_instance_launch_statement,)),
    KeyDomain("logs", "Audit and operational logs: flow logs, CloudWatch Logs, trails.",
              (_cloudwatch_logs_statement, _cloudtrail_statement, _cloudtrail_describe_statement,
               _guardduty_statement)),
    KeyDomain("secrets", "Secrets Manager secrets: database credentials, tokens."),
)


def with_zero_etl(domains: Sequence[KeyDomain]) -> tuple[KeyDomain, ...]:
    """The domains with the data key opened to Redshift's zero-ETL integrations (the warehouse's)."""
    return tuple(dataclasses.replace(d, service_statements=(*d.service_statements, _zero_etl_statement))
                 if d.name == "data" else d for d in domains)


#: The key of the alarm topics (components/observability): not one of :data:`KEY_DOMAINS` by
#: default, so a ring gains it only where the platform builds alarms
#: (``KeyRingArgs(domains=(*KEY_DOMAINS, ALARMS_DOMAIN))``; the us-east-1 edge ring for CloudFront's).
ALARMS_DOMAIN = KeyDomain("alarms", "Alarm notifications: the SNS topics CloudWatch alarms publish to.",
                          (_cloudwatch_alarms_statement,))


def key_policy(domain: KeyDomain, *, partition: str, account_id: str, regions: Sequence[str],
               extra_statements: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """The key policy document for a domain: the account root plus the domain's services,
    then ``extra_statements`` (grants that name resources built after the key, such as the
    CloudFront distribution that reads the assets bucket: :meth:`KeyRing.admit`)."""
    statements = [_account_root_statement(partition, account_id)]
    statements.extend(build(partition, account_id, regions) for build in domain.service_statements)
    statements.extend(extra_statements)
    return policy_document(*statements)


@dataclass(frozen=True)
class KeyRingArgs:
    dr_region: str | None = None
    """When set, keys are multi-Region so that replicas in the DR region decrypt the same data."""
    replica_of: Mapping[str, pulumi.Input[str]] | None = None
    """For the DR region's ring: domain -> ARN of the primary ring's multi-Region key. Each
    domain then gets an ``aws.kms.ReplicaKey`` of that key in ``context.region`` instead of a
    key of its own, so data replicated from the primary (global tables, Aurora global
    clusters, S3 replicas) decrypts here with the same key material. Every domain of the ring
    must be named."""
    domains: tuple[KeyDomain, ...] = KEY_DOMAINS
    admitted_later: frozenset[str] = frozenset()
    """Domains whose policy gains statements once the resources they name exist
    (:meth:`KeyRing.admit`). Their key is created with the domain's policy and from then on
    ignores its ``policy`` input: an ``aws.kms.KeyPolicy`` owns the whole document (pulumi-aws:
    a key policy set both ways flip-flops on every refresh)."""

    def __post_init__(self) -> None:
        refuse_unknown(self.admitted_later, (d.name for d in self.domains), "domain of the ring")
        if self.replica_of is None:
            return
        if self.dr_region is not None:
            raise ValueError(
                "KeyRingArgs: replica_of and dr_region together: a replica key cannot itself be a "
                "multi-Region primary for another region; give the DR ring replica_of only, and dr_region "
                "to the primary ring")
        names = {d.name for d in self.domains}
        unknown, missing = sorted(set(self.replica_of) - names), sorted(names - set(self.replica_of))
        if unknown:
            raise ValueError(f"KeyRingArgs.replica_of names no domain of the ring: {', '.join(unknown)}")
        if missing:
            raise ValueError(f"KeyRingArgs.replica_of lacks the primary key ARN of domain(s) {', '.join(missing)}: "
                             "a replica ring replicates every domain (pass the primary ring's arn(domain) for each)")


def alias_name(context: StackContext, domain: str) -> str:
    """A domain key's alias, the same in every region of the stack: aliases are regional, so
    the DR slice's ``dr`` qualifier is left out and a service configured with the alias finds
    its key in whichever region it runs."""
    return f"alias/{dataclasses.replace(context.conventions, qualifier='').physical_name(domain)}"


class KeyRing(pulumi.ComponentResource):
    """A customer-managed key and alias per domain.

    With ``KeyRingArgs.replica_of`` the ring is the DR region's: each domain's key is a replica
    of the primary's multi-Region key, with this region's policy (key policies are per key,
    not replicated) and the same alias names (aliases are regional, so they do not clash).
    Rotation is set on the primary only: a replica shares the primary's key material and
    rotates with it (KMS refuses EnableKeyRotation on a replica).
    """

    #: The type token before the layers were named consistently (see RegionalPlatform).
    PREVIOUS_TYPE: ClassVar[str] = "retail:security:KeyRing"

    keys: dict[str, aws.kms.Key | aws.kms.ReplicaKey]
    aliases: dict[str, aws.kms.Alias]
    policies: dict[str, aws.kms.KeyPolicy]
    """The KeyPolicy of each domain admitted later, once :meth:`admit` has made it."""

    def __init__(self, name: str, context: StackContext, args: KeyRingArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:foundation:KeyRing", name, None, opts)
        self._ring_name = name
        regions = [context.region] + ([args.dr_region] if args.dr_region else [])
        self._context, self._regions, self._args = context, regions, args
        self.keys = {}
        self.aliases = {}
        self.policies = {}
        self._admissions = Admissions(args.admitted_later, kind="domain", args="KeyRingArgs",
                                      conflict="its key would fight the KeyPolicy over the policy")
        for domain in args.domains:
            policy = pulumi.Output.all(context.partition, context.account_id).apply(
                lambda values, domain=domain: json.dumps(
                    key_policy(domain, partition=values[0], account_id=values[1], regions=regions)
                )
            )
            tags = context.conventions.tags(context.conventions.physical_name(domain.name), {"key-domain": domain.name})
            description = f"{context.conventions.physical_name(domain.name)}: {domain.description}"
            key_opts = pulumi.ResourceOptions(
                parent=self, protect=context.protect,
                ignore_changes=["policy"] if domain.name in args.admitted_later else None)
            key: aws.kms.Key | aws.kms.ReplicaKey
            if args.replica_of is not None:
                # aws.kms.KeyPolicy takes a replica's id like any key's (PutKeyPolicy is per key),
                # so admit() works the same way for a replica ring.
                key = aws.kms.ReplicaKey(
                    f"{name}-{domain.name}",
                    primary_key_arn=args.replica_of[domain.name],
                    description=description,
                    deletion_window_in_days=DELETION_WINDOW_DAYS,
                    policy=policy,
                    region=context.region,
                    tags=tags,
                    opts=key_opts,
                )
            else:
                key = aws.kms.Key(
                    f"{name}-{domain.name}",
                    description=description,
                    enable_key_rotation=True,
                    rotation_period_in_days=ROTATION_PERIOD_DAYS,
                    deletion_window_in_days=DELETION_WINDOW_DAYS,
                    multi_region=args.dr_region is not None,
                    policy=policy,
                    region=context.region,
                    tags=tags,
                    opts=key_opts,
                )
            self.keys[domain.name] = key
            self.aliases[domain.name] = aws.kms.Alias(
                f"{name}-{domain.name}",
                name=alias_name(context, domain.name),
                target_key_id=key.key_id,
                region=context.region,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({f"{domain}KeyArn": key.arn for domain, key in self.keys.items()})

    def arn(self, domain: str) -> pulumi.Output[str]:
        try:
            return self.keys[domain].arn
        except KeyError:
            raise KeyError(f"no key for domain {domain!r}; domains: {', '.join(self.keys)}") from None

    def arns(self) -> dict[str, pulumi.Output[str]]:
        """Every domain's key ARN (a DR ring's replicas are made from these)."""
        return {domain: key.arn for domain, key in self.keys.items()}

    def admit(self, domain: str, statements: pulumi.Input[Sequence[dict[str, Any]]]) -> aws.kms.KeyPolicy:
        """Add ``statements`` to a domain's key policy: for grants that name a resource built
        after the key, and built from it (the CloudFront distribution that reads a bucket the
        key encrypts), which ``aws.kms.Key(policy=...)`` cannot name without a cycle.

        An ``aws.kms.KeyPolicy`` then carries the whole document, :func:`key_policy` with the
        statements added, so nothing the key's own policy grants is lost. The domain must be in
        ``KeyRingArgs.admitted_later`` (its key ignores its own policy input), and is admitted once;
        :meth:`require_admitted` then tells whether every such domain was.
        """
        self._admissions.claim(domain)
        (spec,) = [d for d in self._args.domains if d.name == domain]
        context, regions, key = self._context, self._regions, self.keys[domain]
        policy = pulumi.Output.all(context.partition, context.account_id, statements).apply(
            lambda values: json.dumps(key_policy(spec, partition=values[0], account_id=values[1], regions=regions,
                                                 extra_statements=values[2])))
        self.policies[domain] = aws.kms.KeyPolicy(
            f"{self._ring_name}-{domain}",
            key_id=key.key_id,
            policy=policy,
            region=context.region,
            # Deleting it would leave the key on AWS's default policy: keep it as the key is kept.
            opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
        )
        return self.policies[domain]

    def require_admitted(self) -> None:
        """Raise if a domain of ``admitted_later`` was never admitted: its key ignores its own
        policy input, so without the KeyPolicy no later change to that policy would ever apply."""
        self._admissions.require_all(f"key ring {self._ring_name!r}")
