"""RDS Proxy in front of Aurora (retail:sql.proxy), built with its SqlDatabase under the mocks."""

from __future__ import annotations

import json

import pytest

from blueprint.mocks import ACCOUNT_ID
from components.data.settings import SqlConfig, SqlProxyConfig
from components.data.sql_proxy import (
    PROXY_PORT,
    db_user_arn,
    proxy_connect_policy,
    proxy_resource_id,
    proxy_role_policy,
    proxy_trust_policy,
    proxy_user_policy,
)
from tests.components.data.test_sql_database import (
    APP_USER,
    CLIENT_SG,
    CLUSTER,
    EGRESS,
    ENDPOINTS_SG,
    INGRESS,
    ISOLATED_SUBNETS,
    OTHER_CLIENT_SG,
    REGION,
    ROLE,
    ROLE_POLICY,
    SECRETS_KEY,
    SECURITY_GROUP,
    VPC_ID,
    Built,
    _stack_config,
    build,
    direct,
)

PROXY = "aws:rds/proxy:Proxy"
TARGET_GROUP = "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup"
TARGET = "aws:rds/proxyTarget:ProxyTarget"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"


def with_proxy(stack: str = "prod", **proxy: object) -> SqlConfig:
    sql = _stack_config(stack).sql
    return sql.model_copy(update={"proxy": SqlProxyConfig.model_validate({"enabled": True, **proxy})})


def build_proxied(stack: str = "prod", clients: dict[str, str] | None = None, extra=None,
                  endpoints: str | None = None, **proxy: object) -> Built:
    # build() exports proxyArn, proxyEndpoint, clientEndpoint and clientPort.
    return build(stack, sql=with_proxy(stack, **proxy),
                 clients={"checkout": CLIENT_SG} if clients is None else clients, extra=extra, endpoints=endpoints)


@pytest.fixture(scope="module")
def prod() -> Built:
    return build_proxied("prod")


def _group(b: Built, name: str):
    return b.graph.one(SECURITY_GROUP, name)


def _group_id(b: Built, name: str) -> str:
    group_id = _group(b, name).id
    assert group_id is not None
    return group_id


# -- the proxy --------------------------------------------------------------------------------

def test_proxy_is_postgres_tls_only_iam_end_to_end_in_the_isolated_subnets(prod):
    proxy = prod.graph.one(PROXY)
    inputs = proxy.inputs
    assert inputs["engineFamily"] == "POSTGRESQL"
    assert inputs["requireTls"] is True
    assert inputs["defaultAuthScheme"] == "IAM_AUTH"
    assert inputs["debugLogging"] is False
    assert inputs["vpcSubnetIds"] == list(ISOLATED_SUBNETS)
    assert inputs["vpcSecurityGroupIds"] == [_group(prod, "sql-proxy").id]
    assert inputs["name"] == "retail-prod-sql-proxy"
    (auth,) = inputs["auths"]
    assert auth["iamAuth"] == "REQUIRED"
    assert auth["authScheme"] == "SECRETS"
    assert auth["clientPasswordAuthType"] == "POSTGRES_SCRAM_SHA_256"
    assert auth["secretArn"] == prod.graph.outputs["masterSecretArn"]
    # The role it assumes is its own, and RDS checks it can read the secret at creation.
    role = prod.graph.one(ROLE, "sql-proxy-role")
    assert role.urn in proxy.property_dependencies["roleArn"]
    assert prod.graph.one(ROLE_POLICY, "sql-proxy-master-secret").urn in proxy.dependencies


def test_proxy_targets_the_cluster_with_the_configured_pool():
    b = build_proxied("prod", maxConnectionsPercent=80, maxIdleConnectionsPercent=40, borrowTimeoutSeconds=30)
    group = b.graph.one(TARGET_GROUP)
    assert group.inputs["dbProxyName"] == "retail-prod-sql-proxy"
    assert group.inputs["connectionPoolConfig"] == {
        "maxConnectionsPercent": 80, "maxIdleConnectionsPercent": 40, "connectionBorrowTimeout": 30}
    target = b.graph.one(TARGET)
    assert target.inputs["dbClusterIdentifier"] == b.graph.one(CLUSTER).inputs["clusterIdentifier"]
    assert target.inputs["dbProxyName"] == "retail-prod-sql-proxy"
    assert group.urn in target.property_dependencies["targetGroupName"]
    assert {i.urn for i in b.graph.of_type(INSTANCE)} <= set(target.dependencies)


def test_default_pool_is_90_percent(prod):
    pool = prod.graph.one(TARGET_GROUP).inputs["connectionPoolConfig"]
    assert pool["maxConnectionsPercent"] == 90


def test_proxy_log_group_is_ours_with_retention_and_created_first(prod):
    group = prod.graph.one(LOG_GROUP, "sql-proxy-log")
    assert group.inputs["name"] == "/aws/rds/proxy/retail-prod-sql-proxy"
    assert group.inputs["retentionInDays"] == 365
    assert group.urn in prod.graph.one(PROXY).dependencies


# -- the network path: client -> proxy:5432 -> cluster:5433, nothing else -------------------------

def _rules(b: Built, type_: str, group_id: str) -> list[tuple[str, int, int]]:
    return sorted((r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"])
                  for r in b.graph.of_type(type_) if r.inputs["securityGroupId"] == group_id)


def test_only_the_declaring_services_reach_the_proxy_and_only_the_proxy_reaches_the_cluster():
    b = build_proxied("prod", clients={"checkout": CLIENT_SG, "returns": OTHER_CLIENT_SG})
    proxy_group, cluster_group = _group_id(b, "sql-proxy"), _group_id(b, "sql")
    assert _rules(b, INGRESS, proxy_group) == sorted([(CLIENT_SG, 5432, 5432), (OTHER_CLIENT_SG, 5432, 5432)])
    assert _rules(b, EGRESS, proxy_group) == [(cluster_group, 5433, 5433)]
    # The cluster admits the proxy alone: no service skips the pool.
    assert _rules(b, INGRESS, cluster_group) == [(proxy_group, 5433, 5433)]
    assert _rules(b, EGRESS, CLIENT_SG) == [(proxy_group, 5432, 5432)]
    assert _rules(b, EGRESS, OTHER_CLIENT_SG) == [(proxy_group, 5432, 5432)]
    assert all(r.inputs["ipProtocol"] == "tcp" for r in b.graph.of_type(INGRESS) + b.graph.of_type(EGRESS))
    everything = json.dumps([r.inputs for r in b.graph], default=str)
    assert "0.0.0.0/0" not in everything and "cidrIpv4" not in everything


def test_an_undeclared_service_gets_no_path():
    b = build_proxied("prod", clients={"checkout": CLIENT_SG})
    referenced = {r.inputs["referencedSecurityGroupId"] for r in b.graph.of_type(INGRESS)}
    assert OTHER_CLIENT_SG not in referenced


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_without_the_proxy_the_cluster_admits_the_clients_directly(stack):
    # dev's preset has no proxy; prod's has one, turned off here (the off path of a stack that
    # could afford it must not leave the clients without a way in, nor the proxy's rules behind).
    sql = None if stack == "dev" else direct(stack)
    b = build(stack, sql=sql, clients={"checkout": CLIENT_SG, "returns": OTHER_CLIENT_SG}, endpoints=ENDPOINTS_SG)
    assert b.stack.sql.proxy.enabled is (stack == "prod") and not (sql or b.sql).proxy.enabled
    assert b.graph.of_type(PROXY) == [] and [g.name for g in b.graph.of_type(SECURITY_GROUP)] == ["sql"]
    cluster_group = _group_id(b, "sql")
    assert _rules(b, INGRESS, cluster_group) == sorted([(CLIENT_SG, 5433, 5433), (OTHER_CLIENT_SG, 5433, 5433)])
    assert _rules(b, EGRESS, CLIENT_SG) == [(cluster_group, 5433, 5433)]
    assert _rules(b, EGRESS, OTHER_CLIENT_SG) == [(cluster_group, 5433, 5433)]
    assert len(b.graph.of_type(INGRESS)) == 2 and len(b.graph.of_type(EGRESS)) == 2
    # The grant names the cluster, and the services are pointed at the writer.
    (statement,) = json.loads(b.graph.one(ROLE_POLICY).inputs["policy"])["Statement"]
    cluster_id = b.graph.outputs["clusterResourceId"]
    assert statement["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{cluster_id}/{APP_USER}"]
    assert (b.graph.outputs["clientEndpoint"], b.graph.outputs["clientPort"]) == (b.graph.outputs["endpoint"], 5433)


def test_the_proxy_reaches_the_endpoints_group_on_443_and_nothing_else_besides_the_cluster():
    b = build_proxied("prod", endpoints=ENDPOINTS_SG)
    proxy_group, cluster_group = _group_id(b, "sql-proxy"), _group_id(b, "sql")
    assert _rules(b, EGRESS, proxy_group) == sorted([(cluster_group, 5433, 5433), (ENDPOINTS_SG, 443, 443)])
    # The endpoints' group is only a destination: nothing admits it.
    assert ENDPOINTS_SG not in {r.inputs["referencedSecurityGroupId"] for r in b.graph.of_type(INGRESS)}


# -- the grants --------------------------------------------------------------------------------

def _policy(b: Built, name: str) -> dict:
    return json.loads(b.graph.one(ROLE_POLICY, name).inputs["policy"])


def test_a_service_grant_names_the_proxy_and_not_the_cluster(prod):
    proxy_id = proxy_resource_id(prod.graph.outputs["proxyArn"])
    (grant,) = [r for r in prod.graph.of_type(ROLE_POLICY) if r.inputs["role"].startswith("checkout")]
    (statement,) = json.loads(grant.inputs["policy"])["Statement"]
    assert statement["Action"] == ["rds-db:connect"]
    assert statement["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{proxy_id}/{APP_USER}"]
    assert prod.graph.outputs["clusterResourceId"] not in grant.inputs["policy"]


def test_the_proxy_signs_in_to_the_cluster_as_exactly_the_granted_users(prod):
    cluster_id = prod.graph.outputs["clusterResourceId"]
    (statement,) = _policy(prod, f"sql-proxy-as-{APP_USER}")["Statement"]
    assert statement["Resource"] == [f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{cluster_id}/{APP_USER}"]
    proxy_role = prod.graph.one(ROLE, "sql-proxy-role")
    on_proxy_role = [r for r in prod.graph.of_type(ROLE_POLICY) if r.parent == proxy_role.urn]
    assert sorted(r.name for r in on_proxy_role) == ["sql-proxy-as-checkout_app", "sql-proxy-master-secret"]


def test_proxy_role_reads_the_master_secret_only_and_decrypts_via_secrets_manager(prod):
    statements = {s["Sid"]: s for s in _policy(prod, "sql-proxy-master-secret")["Statement"]}
    assert statements["ReadMasterSecret"]["Action"] == ["secretsmanager:GetSecretValue"]
    assert statements["ReadMasterSecret"]["Resource"] == [prod.graph.outputs["masterSecretArn"]]
    assert statements["DecryptMasterSecret"]["Action"] == ["kms:Decrypt"]
    assert statements["DecryptMasterSecret"]["Resource"] == [SECRETS_KEY]
    assert statements["DecryptMasterSecret"]["Condition"] == {
        "StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}}
    trust = json.loads(prod.graph.one(ROLE, "sql-proxy-role").inputs["assumeRolePolicy"])
    (principal,) = trust["Statement"]
    assert principal["Principal"] == {"Service": "rds.amazonaws.com"}
    assert principal["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}


def test_the_master_user_cannot_be_granted_through_the_proxy():
    errors: list[str] = []

    def try_master(database) -> None:
        import pulumi_aws as aws
        try:
            database.grant_connect(aws.iam.Role("admin", assume_role_policy="{}"), "retail_admin")
        except ValueError as exc:
            errors.append(str(exc))

    build_proxied("prod", extra=try_master)
    assert len(errors) == 1 and "master user" in errors[0]


def test_two_roles_with_one_user_give_the_proxy_one_grant():
    def second(database) -> None:
        import pulumi_aws as aws
        database.grant_connect(aws.iam.Role("returns", assume_role_policy="{}"), APP_USER)

    b = build_proxied("prod", extra=second)
    assert len([r for r in b.graph.of_type(ROLE_POLICY) if r.name.startswith("sql-proxy-as-")]) == 1
    assert len([r for r in b.graph.of_type(ROLE_POLICY) if r.name.startswith("sql-proxy-connect-")]) == 2


def test_services_are_pointed_at_the_proxy(prod):
    outputs = prod.graph.outputs
    assert outputs["clientEndpoint"] == outputs["proxyEndpoint"] != outputs["endpoint"]
    assert outputs["clientEndpoint"].startswith("retail-prod-sql-proxy.proxy-")
    assert outputs["clientPort"] == 5432


# -- pure helpers --------------------------------------------------------------------------------

def test_proxy_resource_id_comes_from_the_arn_and_refuses_anything_else():
    assert proxy_resource_id("arn:aws:rds:eu-west-1:111122223333:db-proxy:prx-0123abcd") == "prx-0123abcd"
    for bad in ("arn:aws:rds:eu-west-1:111122223333:cluster:retail-prod-sql", "retail-prod-sql-proxy",
                "arn:aws:rds:eu-west-1:111122223333:db-proxy:*"):
        with pytest.raises(ValueError, match="not an RDS Proxy ARN"):
            proxy_resource_id(bad)


def test_connect_policies_refuse_names_wildcards_and_the_wrong_kind_of_id():
    with pytest.raises(ValueError, match="proxy resource id"):
        proxy_connect_policy("aws", REGION, ACCOUNT_ID, "cluster-ABC123", APP_USER)
    with pytest.raises(ValueError, match="cluster resource id"):
        proxy_user_policy("aws", REGION, ACCOUNT_ID, "prx-0123abcd", APP_USER)
    with pytest.raises(ValueError, match="PostgreSQL identifier"):
        proxy_connect_policy("aws", REGION, ACCOUNT_ID, "prx-0123abcd", "*")
    with pytest.raises(ValueError, match="twelve digits"):
        db_user_arn("aws", REGION, "*", "prx-0123abcd", APP_USER)
    with pytest.raises(ValueError, match="neither"):
        db_user_arn("aws", REGION, ACCOUNT_ID, "retail-prod-sql-proxy", APP_USER)


def test_role_policy_and_trust_are_exact():
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT_ID}:secret:rds!cluster-abc-Xy12Zq"
    assert proxy_role_policy(secret, SECRETS_KEY, REGION)["Statement"][0]["Resource"] == [secret]
    assert proxy_trust_policy(ACCOUNT_ID)["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}
    assert PROXY_PORT == 5432


def test_vpc_is_the_stores_vpc(prod):
    assert _group(prod, "sql-proxy").inputs["vpcId"] == VPC_ID
