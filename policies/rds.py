"""Aurora (RDS) clusters and their instances: private, encrypted with our key, backed up,
IAM authentication, patched, spread over AZs in prod, off the default port and admin name,
logging to CloudWatch, TLS enforced by the cluster parameter group, and no master password in
the program.

Aurora's master password is generated, stored and rotated by RDS in a Secrets Manager
secret of its own (``manage_master_user_password``), encrypted with the secrets key; the
program, its state and its config never see it. That secret is not a Pulumi resource:
``secrets-managed-master-password`` checks the cluster's inputs, so it lives here, while the
secrets the program creates itself are checked in ``secrets_manager``.

The default port and the reserved admin names come from ``components.common.aws_limits``,
the same constants the stack config validates against, so the components and the pack cannot
drift.
Prod-only checks read the resource's ``environment`` tag, as ``log-retention-prod`` does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    StackValidationArgs,
)

from components.common.aws_limits import POSTGRES_DEFAULT_PORT, RESERVED_DB_USERNAMES
from policies._helpers import (
    check_each,
    companions_by_target,
    days_text,
    is_number,
    is_prod,
    is_set,
    linked_from,
    mapping,
    names_customer_key,
    resource_policy,
    sequence,
    stack_policy,
)

CLUSTER = "aws:rds/cluster:Cluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
#: A standalone RDS instance: its publiclyAccessible and autoMinorVersionUpgrade inputs are
#: named as on a cluster instance, so RDS.2 and RDS.13 check it too.
INSTANCE = "aws:rds/instance:Instance"
CLUSTER_PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"

POSTGRES_ENGINES = ("aurora-postgresql", "postgres")
MYSQL_DEFAULT_PORT = 3306
#: Each engine's default listener port (RDS.23 asks for another one).
DEFAULT_PORTS: Mapping[str, int] = {
    "aurora-postgresql": POSTGRES_DEFAULT_PORT,
    "postgres": POSTGRES_DEFAULT_PORT,
    "aurora-mysql": MYSQL_DEFAULT_PORT,
    "mysql": MYSQL_DEFAULT_PORT,
}
#: The CloudWatch Logs export that carries PostgreSQL's log (RDS.37).
POSTGRESQL_LOG_EXPORT = "postgresql"
FORCE_SSL_PARAMETER = "rds.force_ssl"
MIN_BACKUP_RETENTION_DAYS = 1
PROD_MIN_INSTANCES = 2

#: Cluster inputs that put the master password in the program, and their Python names.
PASSWORD_INPUTS = (("masterPassword", "master_password"), ("masterPasswordWo", "master_password_wo"))
#: Cluster inputs that make it take its credentials from elsewhere (a snapshot, a source
#: cluster, the primary of a global database), so it sets no master user of its own.
INHERITED_CREDENTIAL_INPUTS = (
    "snapshotIdentifier",
    "replicationSourceIdentifier",
    "globalClusterIdentifier",
    "restoreToPointInTime",
)


def _engine(props: Mapping[str, Any]) -> str:
    return str(props.get("engine") or "")


# --- RDS.2 ----------------------------------------------------------------------------------


def _instance_not_public(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is compliant: the provider's default is false.
    if args.props.get("publiclyAccessible") is True:
        report_violation(
            "DB instance is publicly accessible; set publicly_accessible=False (applications "
            "reach it inside the VPC, through the cluster's security group).",
            None,
        )


# --- RDS.3 ----------------------------------------------------------------------------------


def _cluster_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing storageEncrypted is a violation: AWS's default is unencrypted for provisioned
    # Aurora (and Serverless v2 is provisioned).
    if args.props.get("storageEncrypted") is not True:
        report_violation(
            "cluster storage is not encrypted; set storage_encrypted=True and kms_key_id=<the "
            "data key's ARN> (only possible when the cluster is created: restore a snapshot "
            "into a new encrypted cluster).",
            None,
        )
    elif not names_customer_key(args.props, "kmsKeyId"):
        report_violation(
            "cluster is encrypted with the AWS-managed aws/rds key; set kms_key_id=<the data "
            "key's ARN> so the key policy and its rotation are ours.",
            None,
        )


# --- RDS.7 ----------------------------------------------------------------------------------


def _cluster_deletion_protection_prod(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    if not is_prod(args.props):
        args.not_applicable("cluster is not tagged environment=prod")
    # Missing is a violation: AWS's default is no deletion protection.
    if args.props.get("deletionProtection") is not True:
        report_violation(
            "prod cluster can be deleted by one API call; set deletion_protection=True (and "
            "protect=True in its ResourceOptions).",
            None,
        )


# --- RDS.11 ---------------------------------------------------------------------------------


def _cluster_automatic_backups(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    retention = args.props.get("backupRetentionPeriod")
    # Missing is compliant: AWS keeps automated backups for 1 day by default.
    if retention is None:
        return
    if not is_number(retention) or retention < MIN_BACKUP_RETENTION_DAYS:
        report_violation(
            f"cluster keeps automated backups for {days_text(retention)} days; set "
            "backup_retention_period to at least 1 (the stack config's sql.backupRetentionDays; "
            "7 or more in prod).",
            None,
        )


# --- RDS.12 ---------------------------------------------------------------------------------


def _cluster_iam_auth(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Missing is a violation: AWS's default is off.
    if args.props.get("iamDatabaseAuthenticationEnabled") is not True:
        report_violation(
            "cluster does not accept IAM authentication; set "
            "iam_database_authentication_enabled=True so applications connect with short-lived "
            "IAM tokens instead of stored passwords.",
            None,
        )


# --- RDS.13 ---------------------------------------------------------------------------------


def _instance_auto_minor_version_upgrade(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    # Missing is compliant: the provider's default is true.
    if args.props.get("autoMinorVersionUpgrade") is False:
        report_violation(
            "DB instance does not take minor engine upgrades (security patches); set "
            "auto_minor_version_upgrade=True.",
            None,
        )


# --- RDS.15 ---------------------------------------------------------------------------------


def _cluster_multi_az_prod(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    # A Global Database secondary in the DR region (no master user: it has none of its own) runs
    # the size its strategy chose; the runbook adds readers when it is promoted.
    clusters = [r for r in args.resources if r.resource_type == CLUSTER and is_prod(r.props)
                and not (r.props.get("globalClusterIdentifier") and not r.props.get("masterUsername"))]
    if not clusters:
        args.not_applicable("the stack has no cluster tagged environment=prod")
    instances = companions_by_target(args.resources, (CLUSTER_INSTANCE,), "clusterIdentifier")

    def check(cluster: PolicyResource) -> None:
        members = instances.get(cluster.urn, [])
        if len(members) < PROD_MIN_INSTANCES:
            report_violation(
                f"prod cluster {cluster.name} has {len(members)} instance(s), so losing one AZ "
                "stops the database; add aws.rds.ClusterInstance readers with "
                f"cluster_identifier=cluster.id until it has at least {PROD_MIN_INSTANCES} "
                "(Aurora places them in different AZs).",
                cluster.urn,
            )
            return
        zones = [member.props.get("availabilityZone") for member in members]
        if all(zones) and len(set(zones)) == 1:
            report_violation(
                f"prod cluster {cluster.name} pins all {len(members)} instances to "
                f"{zones[0]}; leave availability_zone unset or spread the instances over "
                "different AZs.",
                cluster.urn,
            )

    check_each(clusters, check)


# --- RDS.23 ---------------------------------------------------------------------------------


def _cluster_non_default_port(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    engine = _engine(args.props)
    default = DEFAULT_PORTS.get(engine)
    if default is None:
        args.not_applicable(f"no known default port for engine {engine!r}")
    port = args.props.get("port")
    # Missing is a violation: the cluster then listens on the engine's default port.
    if port is None or (is_number(port) and port == default):
        shown = "not set" if port is None else days_text(port)
        report_violation(
            f"cluster port is {shown}, so it listens on {engine}'s default {default}; set port "
            "to another value (the stack config's sql.port, 5433 by default).",
            None,
        )


# --- RDS.24 ---------------------------------------------------------------------------------


def _cluster_custom_admin_username(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    username = args.props.get("masterUsername")
    if username is None:
        args.not_applicable("no master_username: it comes from the snapshot or source cluster")
    if str(username).lower() in RESERVED_DB_USERNAMES:
        report_violation(
            f"cluster's master username is {username!r}, a default name attackers try first; "
            "set master_username to a name of your own (the stack config's "
            "sql.masterUsername, retail_admin by default).",
            None,
        )


# --- RDS.37 ---------------------------------------------------------------------------------


def _cluster_postgresql_logs(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    engine = _engine(args.props)
    if engine not in POSTGRES_ENGINES:
        args.not_applicable(f"engine {engine!r} is not PostgreSQL")
    exports = [str(e) for e in sequence(args.props.get("enabledCloudwatchLogsExports"))]
    if POSTGRESQL_LOG_EXPORT not in exports:
        report_violation(
            "cluster does not publish the PostgreSQL log to CloudWatch Logs; add "
            f"'{POSTGRESQL_LOG_EXPORT}' to enabled_cloudwatch_logs_exports.",
            None,
        )


# --- rds.force_ssl --------------------------------------------------------------------------


def _forces_ssl(group: PolicyResource) -> bool:
    for parameter in sequence(group.props.get("parameters")):
        parameter = mapping(parameter)
        if parameter.get("name") == FORCE_SSL_PARAMETER:
            value = parameter.get("value")
            return str(value).strip() == "1" or (is_number(value) and value == 1)
    return False


_FORCE_SSL_FIX = f"parameters=[{{'name': '{FORCE_SSL_PARAMETER}', 'value': '1'}}]"


def _force_ssl(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    clusters = [
        r for r in args.resources
        if r.resource_type == CLUSTER and _engine(r.props) in POSTGRES_ENGINES
    ]
    if not clusters:
        args.not_applicable("the stack has no PostgreSQL clusters")

    def check(cluster: PolicyResource) -> None:
        groups = linked_from(cluster, "dbClusterParameterGroupName", (CLUSTER_PARAMETER_GROUP,))
        if not groups:
            report_violation(
                f"cluster {cluster.name} has no cluster parameter group of this stack, so "
                "nothing makes it refuse unencrypted connections; create an "
                f"aws.rds.ClusterParameterGroup with {_FORCE_SSL_FIX} and set "
                "db_cluster_parameter_group_name=group.name.",
                cluster.urn,
            )
        for group in groups:
            if not _forces_ssl(group):
                report_violation(
                    f"parameter group of cluster {cluster.name} does not set "
                    f"{FORCE_SSL_PARAMETER}=1, so clients may connect without TLS; add "
                    f"{{'name': '{FORCE_SSL_PARAMETER}', 'value': '1'}} to its parameters.",
                    group.urn,
                )

    check_each(clusters, check)


# --- Managed master password ----------------------------------------------------------------


def _managed_master_password(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    props = args.props
    for camel, python in PASSWORD_INPUTS:
        if is_set(props, camel):
            # A write-only input still lives in the program's code or config.
            report_violation(
                f"cluster sets {python}, so the master password is written in the program or "
                f"its config; remove {python} and set manage_master_user_password=True (RDS "
                "then keeps the password in Secrets Manager and rotates it).",
                None,
            )
    if props.get("manageMasterUserPassword") is True:
        if not names_customer_key(props, "masterUserSecretKmsKeyId"):
            report_violation(
                "the master password's secret is encrypted with the AWS-managed "
                "aws/secretsmanager key; set master_user_secret_kms_key_id=<the secrets key's "
                "ARN>.",
                None,
            )
        return
    inherits = not is_set(props, "masterUsername") and any(
        is_set(props, key) for key in INHERITED_CREDENTIAL_INPUTS
    )
    if inherits:
        # A global secondary or a restored cluster takes its master user from the source.
        return
    report_violation(
        "cluster does not let RDS manage its master password; set "
        "manage_master_user_password=True and master_user_secret_kms_key_id=<the secrets key's "
        "ARN>, and remove any master_password.",
        None,
    )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy(
        "rds-instance-not-public",
        "RDS.2: DB instances are not publicly accessible",
        (CLUSTER_INSTANCE, INSTANCE),
        _instance_not_public,
    ),
    resource_policy(
        "rds-cluster-encrypted",
        "RDS.3: clusters are encrypted at rest with a customer-managed KMS key",
        (CLUSTER,),
        _cluster_encrypted,
    ),
    resource_policy(
        "rds-cluster-deletion-protection-prod",
        "RDS.7: prod clusters have deletion protection",
        (CLUSTER,),
        _cluster_deletion_protection_prod,
    ),
    resource_policy(
        "rds-cluster-automatic-backups",
        f"RDS.11: clusters keep automated backups for at least {MIN_BACKUP_RETENTION_DAYS} day",
        (CLUSTER,),
        _cluster_automatic_backups,
    ),
    resource_policy(
        "rds-cluster-iam-auth",
        "RDS.12: clusters accept IAM database authentication",
        (CLUSTER,),
        _cluster_iam_auth,
    ),
    resource_policy(
        "rds-instance-auto-minor-version-upgrade",
        "RDS.13: DB instances take minor engine upgrades automatically",
        (CLUSTER_INSTANCE, INSTANCE),
        _instance_auto_minor_version_upgrade,
    ),
    stack_policy(
        "rds-cluster-multi-az-prod",
        f"RDS.15: every prod cluster has at least {PROD_MIN_INSTANCES} instances, in more "
        "than one AZ",
        _cluster_multi_az_prod,
    ),
    resource_policy(
        "rds-cluster-non-default-port",
        "RDS.23: clusters do not listen on the engine's default port",
        (CLUSTER,),
        _cluster_non_default_port,
    ),
    resource_policy(
        "rds-cluster-custom-admin-username",
        "RDS.24: clusters do not use a default master username",
        (CLUSTER,),
        _cluster_custom_admin_username,
    ),
    resource_policy(
        "rds-cluster-postgresql-logs",
        "RDS.37: Aurora PostgreSQL clusters publish their log to CloudWatch Logs",
        (CLUSTER,),
        _cluster_postgresql_logs,
    ),
    stack_policy(
        "rds-force-ssl",
        "PCI DSS 4.2.1: PostgreSQL clusters use a parameter group that sets rds.force_ssl=1",
        _force_ssl,
    ),
    resource_policy(
        "secrets-managed-master-password",
        "PCI DSS 8.6.2: the Aurora master password is managed by RDS in Secrets Manager, "
        "encrypted with a customer-managed key, never set in the program",
        (CLUSTER,),
        _managed_master_password,
    ),
]
