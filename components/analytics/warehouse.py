"""The warehouse: Redshift Serverless, private, encrypted with our key, audited, capped.

- A namespace encrypted with the data key; the admin password is made, kept and rotated by
  Secrets Manager (``manage_admin_password``) under the secrets key, never seen by Pulumi;
  admin and database names come from config and are never defaults (``admin``, ``dev``);
  connection, user and user-activity logs go to log groups of ours (our logs key, our
  retention), created before the namespace exports into them.
- A workgroup in the isolated subnets behind its own security group, which admits only the
  named client groups on the port; not publicly accessible; enhanced VPC routing (COPY,
  UNLOAD and Spectrum go through the VPC, its endpoints and flow logs); ``require_ssl``; base
  and max RPU from config; a usage limit with the configured breach action.
- Spectrum over the Glue catalog: a role Redshift assumes that reads the lake's Glue database
  and the ``curated/`` prefix of the data-lake bucket, nothing else (never ``raw/``).
- Analysts: :meth:`Warehouse.grant_analyst` lets a role get temporary database credentials for
  this workgroup only, and read ``curated/`` of the lake.
- Zero-ETL (pulumi-aws 7.51 has both): from Aurora PostgreSQL with ``aws.rds.Integration``,
  from DynamoDB with ``aws.redshift.Integration``; the namespace's resource policy
  (``aws.redshift.ResourcePolicy``) authorises exactly those sources, and each DynamoDB source
  table gets the resource policy that lets Redshift export it for this account's integrations.
- DR: pulumi-aws 7.51 has no Redshift Serverless snapshot-copy resource (``aws.redshift.
  SnapshotCopy`` is for provisioned clusters only), so the namespace carries the DR exemption
  tag with the reason: everything in it is derived (zero-ETL from the replicated Aurora and
  DynamoDB stores, Spectrum over the replicated lake) and is rebuilt in the DR region from
  those.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.analytics.warehouse_settings import WarehouseConfig
from components.common.context import StackContext
from components.common.grants import (
    KMS_DECRYPT,
    attach,
    kms_via_service,
    policy_document,
    service_trust_policy,
    statement,
)
from components.common.logs import log_group
from components.data.placement import store_security_group
from components.resilience.objectives import DR_EXEMPT_TAG

#: The Redshift port.
WAREHOUSE_PORT = 5439

#: Every audit log Redshift Serverless exports (connections, user changes, each query).
LOG_EXPORTS = ("connectionlog", "userlog", "useractivitylog")

#: The lake prefix the warehouse and analysts read: cleaned, de-identified data. ``raw/``
#: (as landed, possibly restricted) is never granted here.
CURATED_PREFIX = "curated/"

#: What the workgroup's parameters always say: TLS only.
REQUIRE_SSL = ("require_ssl", "true")
#: Zero-ETL targets must compare identifiers case-sensitively (PostgreSQL and DynamoDB names).
CASE_SENSITIVE = ("enable_case_sensitive_identifier", "true")

#: Why the namespace has no copy in the DR region (a tag value: no commas or parentheses).
DR_EXEMPTION = ("derived data rebuilt in the DR region from the replicated Aurora and DynamoDB stores by zero-ETL "
                "and from the replicated lake by Spectrum - pulumi-aws 7.51 has no Redshift Serverless snapshot copy")

GLUE_READ_ACTIONS = (
    "glue:BatchGetPartition",
    "glue:GetDatabase",
    "glue:GetDatabases",
    "glue:GetPartition",
    "glue:GetPartitions",
    "glue:GetTable",
    "glue:GetTables",
)

#: What a DynamoDB table's resource policy lets Redshift do for a zero-ETL integration.
DYNAMODB_EXPORT_ACTIONS = (
    "dynamodb:DescribeExport",
    "dynamodb:DescribeTable",
    "dynamodb:ExportTableToPointInTime",
)


# -- documents --------------------------------------------------------------------------------

def curated_read_statements(bucket_arn: str, key_arn: str, region: str, prefix: str = CURATED_PREFIX,
                            sid: str = "Lake") -> list[dict[str, Any]]:
    """Read objects under ``prefix`` of the lake bucket, list only that prefix, decrypt through S3."""
    return [
        statement(f"{sid}ReadCurated", ["s3:GetObject"], [f"{bucket_arn}/{prefix}*"]),
        statement(f"{sid}ListCurated", ["s3:ListBucket"], [bucket_arn],
                  condition={"StringLike": {"s3:prefix": [f"{prefix}*"]}}),
        statement(f"{sid}BucketLocation", ["s3:GetBucketLocation"], [bucket_arn]),
        kms_via_service(f"{sid}DecryptThroughS3", key_arn, KMS_DECRYPT, "s3", region),
    ]


def glue_catalog_arns(partition: str, region: str, account_id: str, database: str) -> list[str]:
    base = f"arn:{partition}:glue:{region}:{account_id}"
    return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/*"]


def spectrum_policy(bucket_arn: str, key_arn: str, *, partition: str, region: str, account_id: str,
                    database: str, prefix: str = CURATED_PREFIX) -> dict[str, Any]:
    """What Redshift Spectrum does as the warehouse's role: read the lake's Glue database and
    the curated prefix. No Glue writes (external tables are defined by the lake's owner)."""
    return policy_document(
        statement("ReadLakeCatalog", GLUE_READ_ACTIONS, glue_catalog_arns(partition, region, account_id, database)),
        *curated_read_statements(bucket_arn, key_arn, region, prefix),
    )


def analyst_policy(workgroup_arn: str, bucket_arn: str, key_arn: str, region: str,
                   prefix: str = CURATED_PREFIX) -> dict[str, Any]:
    """An analyst: temporary database credentials for this workgroup (IAM identity, no
    password), and the curated lake; nothing raw, no administration."""
    return policy_document(
        statement("WarehouseCredentials", ["redshift-serverless:GetCredentials", "redshift-serverless:GetWorkgroup"],
                  [workgroup_arn]),
        *curated_read_statements(bucket_arn, key_arn, region, prefix, sid="CuratedLake"),
    )


def namespace_integration_policy(namespace_arn: str, account_id: str, partition: str,
                                 source_arns: Sequence[str]) -> dict[str, Any]:
    """The namespace's resource policy for zero-ETL: Redshift may authorise inbound
    integrations from exactly ``source_arns``, and only this account may create them."""
    return policy_document(
        statement("AuthorizeInboundFromSources", ["redshift:AuthorizeInboundIntegration"], [namespace_arn],
                  condition={"StringEquals": {"aws:SourceArn": sorted(source_arns)}})
        | {"Principal": {"Service": "redshift.amazonaws.com"}},
        statement("CreateInboundInThisAccount", ["redshift:CreateInboundIntegration"], [namespace_arn])
        | {"Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"}},
    )


def dynamodb_export_policy(table_arn: str, account_id: str, partition: str, region: str) -> dict[str, Any]:
    """A source table's resource policy: Redshift may export it for this account's integrations."""
    integrations = f"arn:{partition}:redshift:{region}:{account_id}:integration:*"
    return policy_document(
        statement("ZeroEtlExport", DYNAMODB_EXPORT_ACTIONS, [table_arn, f"{table_arn}/export/*"],
                  condition={"StringEquals": {"aws:SourceAccount": account_id},
                             "ArnLike": {"aws:SourceArn": integrations}})
        | {"Principal": {"Service": "redshift.amazonaws.com"}},
    )


# -- args -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LakeAccess:
    """The data lake the warehouse reads through Spectrum."""

    bucket_arn: pulumi.Input[str]
    """The data-lake bucket (the object store's ``dataLake``), encrypted with the data key."""
    glue_database: str
    """The lake's Glue database (its physical name)."""
    prefix: str = CURATED_PREFIX

    def __post_init__(self) -> None:
        if not self.glue_database:
            raise ValueError("LakeAccess.glue_database is empty; give the lake's Glue database name")
        if not self.prefix.endswith("/") or self.prefix in ("/", "") or "*" in self.prefix:
            raise ValueError(f"LakeAccess.prefix {self.prefix!r} must be one folder ending in '/', such as "
                             f"{CURATED_PREFIX!r}")
        if self.prefix.startswith("raw"):
            raise ValueError(f"LakeAccess.prefix {self.prefix!r} is the raw zone; the warehouse reads "
                             f"{CURATED_PREFIX!r} only")


@dataclass(frozen=True)
class ZeroEtlSource:
    """A store that replicates into the warehouse without a pipeline."""

    name: str
    """Short name, in the integration's name (``orders``, ``inventory``)."""
    kind: Literal["aurora-postgresql", "dynamodb"]
    arn: pulumi.Input[str]
    """The Aurora cluster's ARN, or the DynamoDB table's (point-in-time recovery on)."""


@dataclass(frozen=True)
class WarehouseArgs:
    settings: WarehouseConfig
    data_key_arn: pulumi.Input[str]
    """The namespace (and the lake) are encrypted with it."""
    secrets_key_arn: pulumi.Input[str]
    """The admin password's secret is encrypted with it."""
    logs_key_arn: pulumi.Input[str]
    """The audit log groups are encrypted with it."""
    log_retention_days: int
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated subnets (at least three AZs for Redshift Serverless)."""
    lake: LakeAccess
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """The groups admitted to the warehouse's port, by client name."""
    zero_etl_sources: Sequence[ZeroEtlSource] = ()
    dr_region: str | None = None
    """The DR region when the stack has a DR strategy: the namespace says why it has no copy."""
    s3_prefix_list_id: pulumi.Input[str] | None = None
    """The S3 gateway endpoint's prefix list (``VpcEndpoint.prefix_list_id``): with enhanced VPC
    routing, COPY, UNLOAD and Spectrum reach S3 through it, so the group may send HTTPS there."""
    endpoint_security_group_id: pulumi.Input[str] | None = None
    """The interface endpoints' group (Glue, STS, KMS through the VPC): HTTPS to it only."""

    def __post_init__(self) -> None:
        if not self.subnet_ids:
            raise ValueError("WarehouseArgs.subnet_ids is empty; give the isolated subnets")
        names = [s.name for s in self.zero_etl_sources]
        if len(names) != len(set(names)):
            raise ValueError(f"WarehouseArgs.zero_etl_sources names repeat: {names}; give each source its own name")
        if self.log_retention_days < 1:
            raise ValueError("WarehouseArgs.log_retention_days must be at least 1")


# -- component --------------------------------------------------------------------------------

class Warehouse(pulumi.ComponentResource):
    """Redshift Serverless namespace and workgroup, with Spectrum, zero-ETL and analyst grants."""

    namespace: aws.redshiftserverless.Namespace
    workgroup: aws.redshiftserverless.Workgroup
    security_group: aws.ec2.SecurityGroup
    spectrum_role: aws.iam.Role
    usage_limit: aws.redshiftserverless.UsageLimit
    log_groups: dict[str, aws.cloudwatch.LogGroup]
    integrations: dict[str, aws.rds.Integration | aws.redshift.Integration]

    def __init__(self, name: str, context: StackContext, args: WarehouseArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:analytics:Warehouse", name, None, opts)
        self._name, self._region, self._args = name, context.region, args
        conv, region, settings = context.conventions, context.region, args.settings
        physical = conv.physical_name(name)
        stateful = pulumi.ResourceOptions(parent=self, protect=context.protect)

        # Log groups first: Redshift exports into an existing group as it is, so retention
        # and key are ours (see components/common/logs.py).
        self.log_groups = {
            kind: log_group(f"{name}-{kind}", context, name=f"/aws/redshift/{physical}/{kind}",
                            retention_days=args.log_retention_days, key_arn=args.logs_key_arn,
                            tags=conv.tags(physical, {"log": kind}), parent=self)
            for kind in LOG_EXPORTS
        }

        spectrum_name = conv.physical_name(f"{name}-spectrum", max_length=64)
        self.spectrum_role = aws.iam.Role(
            f"{name}-spectrum",
            name=spectrum_name,
            description=f"Redshift Spectrum of {physical} reads the lake's catalog and {args.lake.prefix}",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(service_trust_policy("redshift.amazonaws.com", account))),
            tags=conv.tags(spectrum_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        spectrum_document = pulumi.Output.all(args.lake.bucket_arn, args.data_key_arn, context.partition,
                                              context.account_id).apply(
            lambda v: spectrum_policy(v[0], v[1], partition=v[2], region=region, account_id=v[3],
                                      database=args.lake.glue_database, prefix=args.lake.prefix))
        spectrum_grant = attach(f"{name}-spectrum-lake", self.spectrum_role, spectrum_document,
                                parent=self.spectrum_role)

        extra_tags = {"purpose": "warehouse", **conv.backup_tags()}
        if args.dr_region is not None:
            extra_tags[DR_EXEMPT_TAG] = DR_EXEMPTION
        self.namespace = aws.redshiftserverless.Namespace(
            name,
            namespace_name=physical,
            admin_username=settings.admin_username,
            db_name=settings.database_name,
            manage_admin_password=True,
            admin_password_secret_kms_key_id=args.secrets_key_arn,
            kms_key_id=args.data_key_arn,
            iam_roles=[self.spectrum_role.arn],
            default_iam_role_arn=self.spectrum_role.arn,
            log_exports=list(LOG_EXPORTS),
            region=region,
            tags=conv.tags(physical, extra_tags),
            opts=pulumi.ResourceOptions.merge(stateful, pulumi.ResourceOptions(
                depends_on=[*self.log_groups.values(), spectrum_grant])),
        )

        self.security_group = store_security_group(
            self, f"{name}-sg", context, _Placement(args), physical=physical, port=WAREHOUSE_PORT,
            service="warehouse", kind="warehouse")

        self._egress(context, physical)

        parameters = [REQUIRE_SSL, *((CASE_SENSITIVE,) if args.zero_etl_sources else ())]
        self.workgroup = aws.redshiftserverless.Workgroup(
            name,
            workgroup_name=physical,
            namespace_name=self.namespace.namespace_name,
            base_capacity=settings.base_capacity,
            max_capacity=settings.max_capacity,
            publicly_accessible=False,
            enhanced_vpc_routing=True,
            port=WAREHOUSE_PORT,
            subnet_ids=list(args.subnet_ids),
            security_group_ids=[self.security_group.id],
            config_parameters=[aws.redshiftserverless.WorkgroupConfigParameterArgs(parameter_key=key,
                                                                                  parameter_value=value)
                               for key, value in parameters],
            region=region,
            tags=conv.tags(physical),
            opts=stateful,
        )

        self.usage_limit = aws.redshiftserverless.UsageLimit(
            f"{name}-compute",
            resource_arn=self.workgroup.arn,
            usage_type="serverless-compute",
            amount=settings.usage_limit_rpu_hours,
            period=settings.usage_limit_period,
            breach_action=settings.breach_action,
            region=region,
            opts=pulumi.ResourceOptions(parent=self.workgroup),
        )

        self.integrations = {}
        if args.zero_etl_sources:
            self._zero_etl(context, physical)

        self.register_outputs({
            "namespaceName": self.namespace.namespace_name,
            "workgroupName": self.workgroup.workgroup_name,
            "adminSecretArn": self.namespace.admin_password_secret_arn,
            "spectrumRoleArn": self.spectrum_role.arn,
            "securityGroupId": self.security_group.id,
        })

    def _egress(self, context: StackContext, physical: str) -> None:
        """HTTPS out to the S3 prefix list and the interface endpoints, when given; nothing else
        (a Pulumi-made group has no egress), so the workgroup reaches AWS only inside the VPC."""
        targets = {"s3": ("prefix_list_id", self._args.s3_prefix_list_id),
                   "endpoints": ("referenced_security_group_id", self._args.endpoint_security_group_id)}
        for target, (argument, value) in targets.items():
            if value is None:
                continue
            rule = f"{self._name}-sg-to-{target}"
            aws.vpc.SecurityGroupEgressRule(
                rule, security_group_id=self.security_group.id, ip_protocol="tcp", from_port=443, to_port=443,
                description=f"{physical} to {target} over HTTPS", region=context.region,
                tags=context.conventions.tags(context.conventions.physical_name(rule)),
                opts=pulumi.ResourceOptions(parent=self.security_group), **{argument: value})

    def _zero_etl(self, context: StackContext, physical: str) -> None:
        args, conv, region = self._args, context.conventions, context.region
        sources = list(args.zero_etl_sources)
        policy = aws.redshift.ResourcePolicy(
            f"{self._name}-integrations",
            resource_arn=self.namespace.arn,
            policy=pulumi.Output.all(self.namespace.arn, context.account_id, context.partition,
                                     *[s.arn for s in sources]).apply(
                lambda v: json.dumps(namespace_integration_policy(v[0], v[1], v[2], v[3:]), sort_keys=True)),
            region=region,
            opts=pulumi.ResourceOptions(parent=self.namespace),
        )
        for source in sources:
            integration_name = conv.physical_name(f"{self._name}-{source.name}", max_length=63)
            common: dict[str, Any] = dict(
                integration_name=integration_name, source_arn=source.arn, target_arn=self.namespace.arn,
                kms_key_id=args.data_key_arn, region=region, tags=conv.tags(integration_name))
            if source.kind == "aurora-postgresql":
                self.integrations[source.name] = aws.rds.Integration(
                    f"{self._name}-{source.name}", **common,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, self.workgroup]))
            else:
                table_policy = aws.dynamodb.ResourcePolicy(
                    f"{self._name}-{source.name}-export",
                    resource_arn=source.arn,
                    policy=pulumi.Output.all(source.arn, context.account_id, context.partition).apply(
                        lambda v: json.dumps(dynamodb_export_policy(v[0], v[1], v[2], region), sort_keys=True)),
                    region=region,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.integrations[source.name] = aws.redshift.Integration(
                    f"{self._name}-{source.name}", **common,
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, table_policy, self.workgroup]))

    # -- grants -------------------------------------------------------------------------------

    def grant_analyst(self, role: aws.iam.Role) -> aws.iam.RolePolicy:
        """Database credentials for this workgroup and the curated lake, nothing raw."""
        lake = self._args.lake
        document = pulumi.Output.all(self.workgroup.arn, lake.bucket_arn, self._args.data_key_arn).apply(
            lambda v: analyst_policy(v[0], v[1], v[2], self._region, lake.prefix))
        return attach(f"{self._name}-analyst-{role._name}", role, document, parent=role)


@dataclass(frozen=True)
class _Placement:
    """The warehouse's args as the store security group's builder reads them."""

    args: WarehouseArgs

    @property
    def vpc_id(self) -> pulumi.Input[str]:
        return self.args.vpc_id

    @property
    def subnet_ids(self) -> Sequence[pulumi.Input[str]]:
        return self.args.subnet_ids

    @property
    def data_key_arn(self) -> pulumi.Input[str]:
        return self.args.data_key_arn

    @property
    def client_security_group_ids(self) -> Mapping[str, pulumi.Input[str]]:
        return self.args.client_security_group_ids
