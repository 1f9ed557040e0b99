"""IAM in moto: the roles the program creates (flow logs, RDS Enhanced Monitoring) and the
database and cache connect grants.

Trust policies: moto's STS only lets IAM users and roles call AssumeRole, so a service
principal assuming its role cannot be played; moto's evaluator checks the aws:SourceAccount
condition (a StringEquals), the reference evaluator the Service principal (conftest.py).
Connect grants: moto authorises rds-db and elasticache calls against resource "*", so the
grants are judged by moto's evaluator, with the ARNs moto gives a cluster, a replication group
and a user created from the prod graph's inputs.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.core import enable_iam_authentication
from moto.iam.access_control import PermissionResult

from blueprint import ResourceGraph
from blueprint.graph import Resource
from components.data.cache import connect_policy as cache_connect_policy
from components.data.sql_database import connect_policy as sql_connect_policy

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
CLUSTER = "aws:rds/cluster:Cluster"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_USER = "aws:elasticache/user:User"
ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999999999999"

#: The program's roles by the service that assumes them, in the primary region and in the DR
#: slice (``dr-`` logical names), which must trust no more than the primary's.
TRUSTED = {"network-flow-logs": "vpc-flow-logs.amazonaws.com", "sql-monitoring": "monitoring.rds.amazonaws.com",
           "dr-network-flow-logs": "vpc-flow-logs.amazonaws.com", "dr-sql-monitoring": "monitoring.rds.amazonaws.com"}


def role(graph: ResourceGraph, name: str) -> Resource:
    return graph.one(ROLE, name)


def trust_of(graph: ResourceGraph, name: str) -> str:
    return role(graph, name).inputs["assumeRolePolicy"]


def create_role(aws, graph: ResourceGraph, name: str) -> str:
    """The role as the provider creates it; UpdateAssumeRolePolicy runs moto's trust-policy
    validator, which CreateRole skips. Returns the role's ARN."""
    iam, inputs = aws.client("iam"), role(graph, name).inputs
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=inputs["assumeRolePolicy"],
                          Description=inputs["description"])["Role"]["Arn"]
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=inputs["assumeRolePolicy"])
    return arn


# -- trust policies ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", TRUSTED)
def test_iam_accepts_the_trust_policy(aws, prod, name):
    create_role(aws, prod, name)
    read = aws.client("iam").get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    assert read == json.loads(trust_of(prod, name))


@pytest.mark.parametrize("name", TRUSTED)
def test_the_service_acting_for_this_account_may_assume_the_role(prod, moto_eval, ref_eval, name):
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    ours = {"aws:SourceAccount": ACCOUNT}
    assert moto_eval(trust_of(prod, name), "sts:AssumeRole", arn, context=ours) is PERMITTED
    assert ref_eval(trust_of(prod, name), "sts:AssumeRole", arn, principal=("Service", TRUSTED[name]),
                    context=ours) is PERMITTED


@pytest.mark.parametrize("name", TRUSTED)
def test_the_service_acting_for_another_account_may_not(prod, moto_eval, ref_eval, name):
    # The confused deputy: the same service, sent by someone else's resource.
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    theirs = {"aws:SourceAccount": OTHER_ACCOUNT}
    assert moto_eval(trust_of(prod, name), "sts:AssumeRole", arn, context=theirs) is DENIED
    assert ref_eval(trust_of(prod, name), "sts:AssumeRole", arn, principal=("Service", TRUSTED[name]),
                    context=theirs) is NEUTRAL


@pytest.mark.parametrize("name", TRUSTED)
@pytest.mark.parametrize("principal", [
    pytest.param(("Service", "ec2.amazonaws.com"), id="another-service"),
    pytest.param(("AWS", f"arn:aws:iam::{ACCOUNT}:user/someone"), id="a-user-of-the-account"),
    pytest.param(("AWS", f"arn:aws:iam::{ACCOUNT}:root"), id="the-account-root"),
])
def test_nobody_else_may_assume_the_role(prod, ref_eval, name, principal):
    arn = f"arn:aws:iam::{ACCOUNT}:role/{name}"
    assert ref_eval(trust_of(prod, name), "sts:AssumeRole", arn, principal=principal,
                    context={"aws:SourceAccount": ACCOUNT}) is NEUTRAL


@pytest.mark.parametrize("name", TRUSTED)
def test_the_role_trusts_only_its_service(prod, name):
    (stmt,) = json.loads(trust_of(prod, name))["Statement"]
    assert (stmt["Effect"], stmt["Principal"], stmt["Action"]) == \
        ("Allow", {"Service": TRUSTED[name]}, "sts:AssumeRole")


@pytest.mark.xfail(strict=True, raises=TypeError, reason=(
    "moto 5.2's AssumeRole trust check compares the caller with Principal.AWS only and raises "
    "TypeError on a statement whose principal is a Service, instead of refusing the caller"))
@pytest.mark.parametrize("name", TRUSTED)
def test_a_user_of_the_account_cannot_assume_the_role(aws, prod, name):
    arn = create_role(aws, prod, name)
    iam = aws.client("iam")
    iam.create_user(UserName="someone")
    iam.put_user_policy(UserName="someone", PolicyName="assume-anything", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="someone")["AccessKey"]
    sts = boto3.session.Session().client("sts", region_name=aws.region, aws_access_key_id=key["AccessKeyId"],
                                         aws_secret_access_key=key["SecretAccessKey"])
    with enable_iam_authentication(), pytest.raises(ClientError, match="AccessDenied"):
        sts.assume_role(RoleArn=arn, RoleSessionName="someone-session")


# -- the flow-log role's delivery policy ----------------------------------------------------------

#: Each side's flow-log role: the primary region's, and the DR slice's.
FLOW_LOG_ROLES = {"primary": "network-flow-logs", "dr": "dr-network-flow-logs"}


def side_region(graph: ResourceGraph, side: str) -> str:
    return graph.region if side == "primary" else graph.outputs["drRegion"]


def flow_log_group_arn(graph: ResourceGraph, side: str = "primary") -> str:
    """The flow-log group of the side's region (both sides name it alike, one per region)."""
    (group,) = [g for g in graph.of_type(LOG_GROUP)
                if g.inputs["name"].endswith("vpc-flow-logs") and g.region == side_region(graph, side)]
    return f"arn:aws:logs:{group.region}:{ACCOUNT}:log-group:{group.inputs['name']}"


def delivery_policy(graph: ResourceGraph, side: str = "primary") -> str:
    name = FLOW_LOG_ROLES[side]
    (policy,) = [p for p in graph.of_type(ROLE_POLICY) if p.inputs["role"] == role(graph, name).id]
    return policy.inputs["policy"]


@pytest.mark.parametrize("side", FLOW_LOG_ROLES)
def test_iam_accepts_the_flow_log_delivery_policy(aws, prod, side):
    name = FLOW_LOG_ROLES[side]
    create_role(aws, prod, name)
    iam = aws.client("iam")
    iam.put_role_policy(RoleName=name, PolicyName="delivery", PolicyDocument=delivery_policy(prod, side))
    read = iam.get_role_policy(RoleName=name, PolicyName="delivery")["PolicyDocument"]
    assert read == json.loads(delivery_policy(prod, side))


@pytest.mark.parametrize("side", FLOW_LOG_ROLES)
def test_flow_logs_deliver_to_their_group(prod, moto_eval, side):
    group = flow_log_group_arn(prod, side)
    assert f":logs:{side_region(prod, side)}:" in group
    stream = f"{group}:log-stream:eni-0123456789abcdef0-all"
    checks = {("logs:CreateLogStream", group), ("logs:DescribeLogStreams", group), ("logs:PutLogEvents", stream),
              ("logs:CreateLogStream", f"{group}:log-stream:eni-1"), ("logs:DescribeLogGroups", group)}
    assert {c: moto_eval(delivery_policy(prod, side), *c) for c in checks} == dict.fromkeys(checks, PERMITTED)


@pytest.mark.parametrize("side", FLOW_LOG_ROLES)
def test_flow_logs_deliver_nowhere_else(prod, moto_eval, side):
    group = flow_log_group_arn(prod, side)
    other_side = flow_log_group_arn(prod, "dr" if side == "primary" else "primary")
    checks = {
        # the same-named group of the other region: each region's role delivers to its own
        ("logs:PutLogEvents", f"{other_side}:log-stream:x"), ("logs:CreateLogStream", other_side),
        # a group whose name starts with ours: the policy's group:* form is not a name prefix
        ("logs:PutLogEvents", f"{group}-copy:log-stream:x"),
        ("logs:PutLogEvents", group.replace("vpc-flow-logs", "app") + ":log-stream:x"),
        ("logs:PutLogEvents", group.replace(ACCOUNT, OTHER_ACCOUNT) + ":log-stream:x"),
        ("logs:CreateLogGroup", group), ("logs:DeleteLogGroup", group), ("logs:PutRetentionPolicy", group),
        ("logs:DeleteLogStream", f"{group}:log-stream:x"), ("logs:GetLogEvents", f"{group}:log-stream:x"),
    }
    assert [c for c in checks if moto_eval(delivery_policy(prod, side), *c) is PERMITTED] == []


# -- Enhanced Monitoring's managed policy -------------------------------------------------------

@pytest.mark.parametrize("name", ["sql-monitoring", "dr-sql-monitoring"])
def test_the_monitoring_role_attaches_an_existing_aws_managed_policy(aws, prod, monkeypatch, moto_eval, name):
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")  # read when the IAM backend starts
    (attachment,) = [a for a in prod.of_type(ATTACHMENT) if a.inputs["role"] == role(prod, name).id]
    create_role(aws, prod, name)
    iam = aws.client("iam")
    iam.attach_role_policy(RoleName=name, PolicyArn=attachment.inputs["policyArn"])
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [attachment.inputs["policyArn"]]
    version = iam.get_policy(PolicyArn=attachment.inputs["policyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=attachment.inputs["policyArn"], VersionId=version)
    stream = f"arn:aws:logs:{prod.region}:{ACCOUNT}:log-group:RDSOSMetrics:log-stream:db-ABC"
    assert moto_eval(document["PolicyVersion"]["Document"], "logs:PutLogEvents", stream) is PERMITTED


# -- the database connect grant -----------------------------------------------------------------
# The direct path: a service signing in to the cluster itself (dev, and the DR secondary, which
# has no proxy). Through RDS Proxy (staging's and prod's primary): test_moto_sql_proxy.py.

APP_USER = "checkout_app"


def create_cluster(aws, prod: ResourceGraph) -> dict[str, Any]:
    """The primary region's cluster (the DR secondary, a member of the primary's global
    cluster, is judged from the graph below)."""
    inputs = prod.without_dr().one(CLUSTER).inputs
    return aws.client("rds").create_db_cluster(
        DBClusterIdentifier=inputs["clusterIdentifier"], Engine=inputs["engine"], EngineVersion=inputs["engineVersion"],
        DatabaseName=inputs["databaseName"], MasterUsername=inputs["masterUsername"],
        ManageMasterUserPassword=inputs["manageMasterUserPassword"], Port=int(inputs["port"]),
        StorageEncrypted=inputs["storageEncrypted"], KmsKeyId=inputs["kmsKeyId"],
        EnableIAMDatabaseAuthentication=inputs["iamDatabaseAuthenticationEnabled"],
        DeletionProtection=inputs["deletionProtection"])["DBCluster"]


def dbuser(cluster: dict[str, Any], user: str, *, region: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:rds-db:{region}:{account}:dbuser:{cluster['DbClusterResourceId']}/{user}"


@pytest.fixture
def cluster(aws, prod) -> dict[str, Any]:
    return create_cluster(aws, prod)


def test_the_cluster_takes_iam_tokens(cluster):
    assert cluster["IAMDatabaseAuthenticationEnabled"] is True
    assert cluster["DbClusterResourceId"].startswith("cluster-")


def test_iam_accepts_the_connect_grant(aws, prod, cluster):
    aws.accepts_role_policy(sql_connect_policy("aws", aws.region, ACCOUNT, cluster["DbClusterResourceId"], APP_USER))


def test_connect_grant_signs_in_as_its_user_to_its_cluster(prod, moto_eval, cluster):
    policy = sql_connect_policy("aws", prod.region, ACCOUNT, cluster["DbClusterResourceId"], APP_USER)
    assert moto_eval(policy, "rds-db:connect", dbuser(cluster, APP_USER, region=prod.region)) is PERMITTED


@pytest.mark.parametrize("target", [
    pytest.param(lambda c, r: dbuser(c, "reporting_app", region=r), id="another-user"),
    pytest.param(lambda c, r: dbuser(c, f"{APP_USER}2", region=r), id="a-user-whose-name-starts-with-it"),
    pytest.param(lambda c, r: dbuser(c, "retail_admin", region=r), id="the-master-user"),
    pytest.param(lambda c, r: dbuser({"DbClusterResourceId": "cluster-OTHER0123456789"}, APP_USER, region=r),
                 id="another-cluster"),
    pytest.param(lambda c, r: dbuser(c, APP_USER, region="eu-central-1"), id="the-dr-region"),
    pytest.param(lambda c, r: dbuser(c, APP_USER, region=r, account=OTHER_ACCOUNT), id="another-account"),
])
def test_connect_grant_reaches_no_other_user_or_cluster(prod, moto_eval, cluster, target):
    policy = sql_connect_policy("aws", prod.region, ACCOUNT, cluster["DbClusterResourceId"], APP_USER)
    assert moto_eval(policy, "rds-db:connect", target(cluster, prod.region)) is NEUTRAL


def test_connect_grant_is_no_rds_administration(prod, moto_eval, cluster):
    policy = sql_connect_policy("aws", prod.region, ACCOUNT, cluster["DbClusterResourceId"], APP_USER)
    actions = ("rds:DescribeDBClusters", "rds:ModifyDBCluster", "rds:GenerateDbAuthToken", "rds-db:*")
    assert [a for a in actions if moto_eval(policy, a, cluster["DBClusterArn"]) is PERMITTED] == []


# -- the cache connect grant -------------------------------------------------------------------

def create_cache(aws, prod: ResourceGraph, group_id: str | None = None) -> tuple[str, dict[str, str]]:
    """The replication group and the cache users, from the prod inputs (moto has no user
    groups); returns the group's ARN and the users' ARNs by user name."""
    ec = aws.client("elasticache")
    primary = prod.without_dr()
    inputs = primary.one(REPLICATION_GROUP).inputs
    group = ec.create_replication_group(
        ReplicationGroupId=group_id or inputs["replicationGroupId"], ReplicationGroupDescription=inputs["description"],
        Engine=inputs["engine"], EngineVersion=inputs["engineVersion"], CacheNodeType=inputs["nodeType"],
        NumCacheClusters=int(inputs["numCacheClusters"]), TransitEncryptionEnabled=inputs["transitEncryptionEnabled"],
        AtRestEncryptionEnabled=inputs["atRestEncryptionEnabled"], KmsKeyId=inputs["kmsKeyId"],
        Port=int(inputs["port"]))["ReplicationGroup"]
    users = {}
    if group_id is None:
        for user in primary.of_type(CACHE_USER):
            u = user.inputs
            users[u["userName"]] = ec.create_user(
                UserId=u["userId"], UserName=u["userName"], Engine=u["engine"], AccessString=u["accessString"],
                **({"AuthenticationMode": {"Type": u["authenticationMode"]["type"]}}
                   if u["authenticationMode"]["type"] == "iam" else {"NoPasswordRequired": True}))["ARN"]
    return group["ARN"], users


def app_user(users: dict[str, str]) -> str:
    (name,) = [n for n in users if n != "default"]
    return users[name]


def test_iam_accepts_the_cache_connect_grant(aws, prod):
    group, users = create_cache(aws, prod)
    aws.accepts_role_policy(cache_connect_policy(group, app_user(users)))


def test_cache_grant_connects_to_its_group_as_its_user(aws, prod, moto_eval):
    group, users = create_cache(aws, prod)
    policy = cache_connect_policy(group, app_user(users))
    # IAM authentication needs elasticache:Connect on both the replication group and the user.
    assert {r: moto_eval(policy, "elasticache:Connect", r) for r in (group, app_user(users))} == \
        dict.fromkeys((group, app_user(users)), PERMITTED)


def test_cache_grant_reaches_no_other_group_or_user(aws, prod, moto_eval):
    group, users = create_cache(aws, prod)
    other_group, _ = create_cache(aws, prod, group_id="retail-prod-other-cache")
    policy = cache_connect_policy(group, app_user(users))
    others = (other_group, users["default"], f"{group}-copy", f"{app_user(users)}-copy")
    assert [r for r in others if moto_eval(policy, "elasticache:Connect", r) is PERMITTED] == []
    admin = ("elasticache:ModifyReplicationGroup", "elasticache:DeleteReplicationGroup", "elasticache:ModifyUser")
    assert [a for a in admin if moto_eval(policy, a, group) is PERMITTED] == []


# -- the DR slice's connect grants: its own stores, in its own region ------------------------------

def grants_named(graph: ResourceGraph, prefix: str) -> list[dict[str, Any]]:
    found = [json.loads(p.inputs["policy"]) for p in graph.of_type(ROLE_POLICY) if p.name.startswith(prefix)]
    assert found, prefix
    return found


def test_the_dr_cache_grants_connect_to_the_dr_cache_only(prod, moto_eval):
    dr_region = prod.outputs["drRegion"]
    (dr_group,) = [g for g in prod.of_type(REPLICATION_GROUP) if g.region == dr_region]
    (dr_user,) = [u for u in prod.of_type(CACHE_USER) if u.region == dr_region and u.inputs["userName"] != "default"]
    group = f"arn:aws:elasticache:{dr_region}:{ACCOUNT}:replicationgroup:{dr_group.inputs['replicationGroupId']}"
    user = f"arn:aws:elasticache:{dr_region}:{ACCOUNT}:user:{dr_user.inputs['userId']}"
    primary_group = group.replace(f":{dr_region}:", f":{prod.region}:").replace(
        dr_group.inputs["replicationGroupId"], prod.without_dr().one(REPLICATION_GROUP).inputs["replicationGroupId"])
    for policy in grants_named(prod, "dr-cache-connect-"):
        assert policy == cache_connect_policy(group, user)
        assert moto_eval(policy, "elasticache:Connect", primary_group) is NEUTRAL


def test_the_dr_database_grants_connect_in_the_dr_region_only(prod, moto_eval):
    dr_region = prod.outputs["drRegion"]
    primary = prod.without_dr()
    # The primary's services sign in through its RDS Proxy (prod's preset): their grants name the
    # proxy, and only the proxy's role names the primary's cluster. No service names the cluster.
    assert [p.name for p in primary.of_type(ROLE_POLICY) if p.name.startswith("sql-connect-")] == []
    (through_proxy,) = grants_named(primary, "sql-proxy-connect-")
    (proxy_as_user,) = grants_named(primary, "sql-proxy-as-")
    (proxy_user,) = through_proxy["Statement"][0]["Resource"]
    (primary_cluster_user,) = proxy_as_user["Statement"][0]["Resource"]
    assert proxy_user.startswith(f"arn:aws:rds-db:{prod.region}:{ACCOUNT}:dbuser:prx-")
    assert primary_cluster_user.startswith(f"arn:aws:rds-db:{prod.region}:{ACCOUNT}:dbuser:cluster-")
    assert proxy_user.endswith(f"/{APP_USER}") and primary_cluster_user.endswith(f"/{APP_USER}")
    # The DR secondary has no proxy: the DR services sign in to it directly, in the DR region,
    # and reach neither the primary's proxy nor its cluster.
    assert [p.name for p in prod.of_type(ROLE_POLICY) if p.name.startswith("dr-sql-proxy-")] == []
    dr_grants = grants_named(prod, "dr-sql-connect-")
    for policy in dr_grants:
        (statement,) = policy["Statement"]
        (resource,) = statement["Resource"]
        assert resource.startswith(f"arn:aws:rds-db:{dr_region}:{ACCOUNT}:dbuser:cluster-")
        assert resource.endswith(f"/{APP_USER}")
        assert moto_eval(policy, "rds-db:connect", resource) is PERMITTED
        assert moto_eval(policy, "rds-db:connect", proxy_user) is NEUTRAL
        assert moto_eval(policy, "rds-db:connect", primary_cluster_user) is NEUTRAL
    # And the other way: the primary's grant reaches no DR cluster.
    for policy in dr_grants:
        (dr_user,) = policy["Statement"][0]["Resource"]
        assert moto_eval(through_proxy, "rds-db:connect", dr_user) is NEUTRAL
        assert moto_eval(proxy_as_user, "rds-db:connect", dr_user) is NEUTRAL
