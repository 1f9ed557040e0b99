"""RDS Proxy in front of the Aurora writer: the services connect to the proxy, never to the
cluster.

A surge (Black Friday at midnight, a campaign e-mail) starts hundreds of pods in minutes, and
each opens its own pool; Aurora's ``max_connections`` is fixed by the instance's memory (see
:mod:`components.data.connections`). The proxy multiplexes those client connections over a
bounded pool (``maxConnectionsPercent`` of Aurora's limit), queues the excess for the borrow
timeout instead of refusing it, and holds client connections through a writer failover.

Authentication is IAM end to end (``default_auth_scheme="IAM_AUTH"``): a pod signs in to the
proxy with an IAM token for its own database user (``rds-db:connect`` on the *proxy's* resource
id), and the proxy signs in to Aurora as that same user with its own IAM identity
(``rds-db:connect`` on the *cluster's* resource id, for exactly the users granted). No
application password exists anywhere. The RDS-managed master secret is registered too, with IAM
required, so an administrator holding ``rds-db:connect`` for the master user (nobody, by
default: ``grant_connect`` refuses it) could break glass through the proxy; for that the
proxy's role may read exactly that secret, and decrypt with the secrets key only through
Secrets Manager.

The proxy listens on PostgreSQL's port (5432, fixed by RDS Proxy) in the isolated subnets,
behind its own group that admits exactly the client groups it is given and sends only to the
cluster's port; the cluster's group admits the proxy's group.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

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
from components.data.settings import SqlProxyConfig, check_db_user
from components.foundation.network import admit_clients

#: RDS Proxy listens on the engine family's default port; it cannot be changed (the RDS.23
#: "non-default port" control is about the database's own listener, which stays custom).
PROXY_PORT = 5432
ENGINE_FAMILY = "POSTGRESQL"
#: Clients sign in with IAM tokens, and the proxy signs in to the database with IAM as well.
DEFAULT_AUTH_SCHEME = "IAM_AUTH"
#: Only the default target group exists on a proxy; targets register in it by this name.
DEFAULT_TARGET_GROUP = "default"
SECRET_READ = ("secretsmanager:GetSecretValue",)
CONNECT_ACTION = "rds-db:connect"

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_PROXY_RESOURCE_ID = re.compile(r"^prx-[a-z0-9]+$")
_CLUSTER_RESOURCE_ID = re.compile(r"^cluster-[A-Z0-9]+$")


def proxy_resource_id(proxy_arn: str) -> str:
    """``arn:aws:rds:<region>:<account>:db-proxy:prx-0123abcd`` -> ``prx-0123abcd``: the id the
    ``rds-db:connect`` ARN of a proxy takes (not its name)."""
    prefix, _, resource_id = proxy_arn.rpartition(":")
    if not prefix.endswith(":db-proxy") or not _PROXY_RESOURCE_ID.match(resource_id):
        raise ValueError(f"{proxy_arn!r} is not an RDS Proxy ARN (…:db-proxy:prx-…)")
    return resource_id


def db_user_arn(partition: str, region: str, account_id: str, resource_id: str, db_user: str) -> str:
    """The ``rds-db:connect`` resource of one database user on a cluster or a proxy."""
    check_db_user(db_user)
    if not _ACCOUNT_ID.match(account_id):
        raise ValueError(f"account id {account_id!r} must be twelve digits")
    if not (_PROXY_RESOURCE_ID.match(resource_id) or _CLUSTER_RESOURCE_ID.match(resource_id)):
        raise ValueError(f"{resource_id!r} is neither a proxy resource id (prx-…) nor a cluster resource id "
                         "(cluster-…); the ARN takes the resource id, not the name")
    return f"arn:{partition}:rds-db:{region}:{account_id}:dbuser:{resource_id}/{db_user}"


def proxy_connect_policy(partition: str, region: str, account_id: str, proxy_id: str,
                         db_user: str) -> dict[str, Any]:
    """A workload signs in to the proxy (and so reaches the database) as one database user."""
    if not _PROXY_RESOURCE_ID.match(proxy_id):
        raise ValueError(f"{proxy_id!r} is not a proxy resource id (prx-…)")
    return policy_document(statement("ConnectThroughProxy", [CONNECT_ACTION],
                                     [db_user_arn(partition, region, account_id, proxy_id, db_user)]))


def proxy_trust_policy(account_id: str) -> dict[str, Any]:
    """RDS may assume the proxy's role, only on behalf of this account (confused deputy)."""
    return service_trust_policy("rds.amazonaws.com", account_id)


def proxy_role_policy(secret_arn: str, secrets_key_arn: str, region: str) -> dict[str, Any]:
    """What the proxy itself needs besides the per-user connect grants: read exactly the master
    secret, and decrypt it with the secrets key only as Secrets Manager does."""
    return policy_document(
        statement("ReadMasterSecret", SECRET_READ, [secret_arn]),
        kms_via_service("DecryptMasterSecret", secrets_key_arn, KMS_DECRYPT, "secretsmanager", region),
    )


def proxy_user_policy(partition: str, region: str, account_id: str, cluster_resource_id: str,
                      db_user: str) -> dict[str, Any]:
    """End-to-end IAM: the proxy signs in to the cluster as ``db_user`` (a granted workload's)."""
    if not _CLUSTER_RESOURCE_ID.match(cluster_resource_id):
        raise ValueError(f"{cluster_resource_id!r} is not a cluster resource id (cluster-…)")
    return policy_document(statement("ConnectToClusterAsDbUser", [CONNECT_ACTION],
                                     [db_user_arn(partition, region, account_id, cluster_resource_id, db_user)]))


@dataclass(frozen=True)
class SqlProxyArgs:
    settings: SqlProxyConfig
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The isolated (data) subnets: the proxy's ENIs sit next to the cluster's."""
    cluster_identifier: pulumi.Input[str]
    cluster_resource_id: pulumi.Input[str]
    cluster_security_group: aws.ec2.SecurityGroup
    """The cluster's own group: it admits the proxy's group on ``cluster_port``."""
    cluster_port: int
    master_secret_arn: pulumi.Input[str]
    """The RDS-managed master secret (``SqlDatabase.master_secret_arn``)."""
    secrets_key_arn: pulumi.Input[str]
    """The key that encrypts the master secret."""
    master_username: str
    client_security_group_ids: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Groups allowed to the proxy's port, by client name (the services that declare the
    database)."""
    cluster_name: str = "sql"
    """The cluster's logical name, for the names of the cluster-side rules."""
    logs_key_arn: pulumi.Input[str] | None = None
    log_retention_days: int = 365
    targets_ready: Sequence[pulumi.Resource] = ()
    """What must exist before the cluster can be registered (its instances: a target needs an
    available writer)."""
    endpoint_security_group_id: pulumi.Input[str] | None = None
    """The VPC's interface endpoints' group: the proxy reads its secret through the Secrets
    Manager endpoint (the isolated subnets have no route out), so HTTPS to it, nothing else."""


class SqlProxy(pulumi.ComponentResource):
    """RDS Proxy for one Aurora PostgreSQL cluster: IAM auth, TLS only, isolated subnets."""

    proxy: aws.rds.Proxy
    security_group: aws.ec2.SecurityGroup
    role: aws.iam.Role
    target_group: aws.rds.ProxyDefaultTargetGroup
    target: aws.rds.ProxyTarget
    endpoint: pulumi.Output[str]
    resource_id: pulumi.Output[str]

    def __init__(self, name: str, context: StackContext, args: SqlProxyArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:data:SqlProxy", name, None, opts)
        self._name, self._context, self._args = name, context, args
        self._granted_users: set[str] = set()
        conv, region, config = context.conventions, context.region, args.settings
        child = pulumi.ResourceOptions(parent=self)
        physical = conv.physical_name(name)

        self.security_group = aws.ec2.SecurityGroup(
            name, vpc_id=args.vpc_id, description=f"{physical}: database proxy clients only", region=region,
            tags=conv.tags(physical), opts=child)
        # Clients -> proxy on 5432, both sides; then proxy -> cluster on the cluster's port, both
        # sides. No other rule: without egress the group answers only replies.
        admit_clients(name, security_group=self.security_group,
                      client_security_group_ids=args.client_security_group_ids, port=PROXY_PORT,
                      service="postgresql proxy", region=region, conventions=conv, parent=self.security_group)
        admit_clients(args.cluster_name, security_group=args.cluster_security_group,
                      client_security_group_ids={name: self.security_group.id}, port=args.cluster_port,
                      service="postgresql", region=region, conventions=conv, parent=self.security_group)
        if args.endpoint_security_group_id is not None:
            rule = f"{name}-to-endpoints"
            aws.vpc.SecurityGroupEgressRule(
                rule, security_group_id=self.security_group.id,
                referenced_security_group_id=args.endpoint_security_group_id, ip_protocol="tcp", from_port=443,
                to_port=443, description=f"{physical} to Secrets Manager (endpoint)",
                region=region, tags=conv.tags(conv.physical_name(rule)),
                opts=pulumi.ResourceOptions(parent=self.security_group))

        self.role = aws.iam.Role(
            f"{name}-role",
            description=f"{physical} reads the cluster's master secret and signs in to it with IAM",
            assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                lambda account: json.dumps(proxy_trust_policy(account), sort_keys=True)),
            tags=conv.tags(conv.physical_name(name, "role")),
            opts=child,
        )
        self.role_policy = attach(
            f"{name}-master-secret", self.role,
            pulumi.Output.all(args.master_secret_arn, args.secrets_key_arn).apply(
                lambda values: proxy_role_policy(values[0], values[1], region)),
            parent=self.role)

        # RDS Proxy writes to /aws/rds/proxy/<name> and would create it itself, never expiring
        # and with AWS's key; creating it first makes the retention and the key ours.
        self.log_group = log_group(
            f"{name}-log", context, name=f"/aws/rds/proxy/{physical}", retention_days=args.log_retention_days,
            key_arn=args.logs_key_arn, tags=conv.tags(f"{physical}-log"), parent=self)

        self.proxy = aws.rds.Proxy(
            name,
            name=physical,
            engine_family=ENGINE_FAMILY,
            role_arn=self.role.arn,
            vpc_subnet_ids=list(args.subnet_ids),
            vpc_security_group_ids=[self.security_group.id],
            # PCI DSS 4.2.1: the proxy refuses clients that do not use TLS (the cluster's
            # rds.force_ssl covers the proxy's own connections).
            require_tls=True,
            default_auth_scheme=DEFAULT_AUTH_SCHEME,
            auths=[aws.rds.ProxyAuthArgs(
                auth_scheme="SECRETS",
                secret_arn=args.master_secret_arn,
                iam_auth="REQUIRED",
                client_password_auth_type="POSTGRES_SCRAM_SHA_256",
                description=f"{args.master_username}: break-glass only, IAM token required",
            )],
            idle_client_timeout=config.idle_client_timeout_seconds,
            # Debug logging writes statement text (card data, addresses) to the log: off.
            debug_logging=False,
            region=region,
            tags=conv.tags(physical),
            # RDS checks the role can read the secret when the proxy is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy, self.log_group]),
        )
        self.target_group = aws.rds.ProxyDefaultTargetGroup(
            name,
            db_proxy_name=self.proxy.name,
            connection_pool_config=aws.rds.ProxyDefaultTargetGroupConnectionPoolConfigArgs(
                max_connections_percent=config.max_connections_percent,
                max_idle_connections_percent=config.max_idle_connections_percent,
                connection_borrow_timeout=config.borrow_timeout_seconds,
            ),
            region=region,
            opts=pulumi.ResourceOptions(parent=self.proxy),
        )
        self.target = aws.rds.ProxyTarget(
            name,
            db_proxy_name=self.proxy.name,
            target_group_name=self.target_group.name,
            db_cluster_identifier=args.cluster_identifier,
            region=region,
            opts=pulumi.ResourceOptions(parent=self.proxy, depends_on=list(args.targets_ready)),
        )
        self.endpoint = self.proxy.endpoint
        self.resource_id = self.proxy.arn.apply(proxy_resource_id)
        self.register_outputs({"endpoint": self.endpoint, "arn": self.proxy.arn,
                               "securityGroupId": self.security_group.id})

    def grant_connect(self, role: aws.iam.Role, db_user: str) -> aws.iam.RolePolicy:
        """Let ``role`` sign in through the proxy as ``db_user``, and the proxy sign in to the
        cluster as that user (once per user, however many roles share it)."""
        check_db_user(db_user, self._args.master_username)
        context, args = self._context, self._args
        if db_user not in self._granted_users:
            self._granted_users.add(db_user)
            attach(f"{self._name}-as-{db_user}", self.role,
                   pulumi.Output.all(context.partition, context.account_id, args.cluster_resource_id).apply(
                       lambda values: proxy_user_policy(values[0], context.region, values[1], values[2], db_user)),
                   parent=self.role)
        document = pulumi.Output.all(context.partition, context.account_id, self.resource_id).apply(
            lambda values: proxy_connect_policy(values[0], context.region, values[1], values[2], db_user))
        return attach(f"{self._name}-connect-{role.pulumi_resource_name}-{db_user}", role, document, parent=role)
