"""RedshiftServerless.1-.6: enhanced VPC routing, TLS, not public, customer key, non-default
admin, audit logs. The rules are evaluated from their module's POLICIES (the integrator
registers them in policies/registry.py)."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies import redshift_serverless
from policies.offline import PolicyReport, evaluate
from policies.registry import POLICIES

NAMESPACE = redshift_serverless.NAMESPACE
WORKGROUP = redshift_serverless.WORKGROUP
KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def run(name: str, *snapshots) -> PolicyReport:
    [policy] = [p for p in redshift_serverless.POLICIES if p.name == name]
    return evaluate(list(snapshots), [policy])


def only(name, resource) -> str:
    [violation] = run(name, resource).violations
    assert violation.urn == resource.urn
    return violation.message


@pytest.fixture
def namespace(snap, tags):
    """What the Warehouse component writes for prod; keyword overrides, None removes a prop."""

    def make(**overrides):
        props = {
            "namespaceName": "retail-prod-warehouse",
            "adminUsername": "wh_owner",
            "dbName": "analytics",
            "manageAdminPassword": True,
            "kmsKeyId": KEY_ARN,
            "logExports": ["connectionlog", "userlog", "useractivitylog"],
            "tags": tags(environment="prod"),
            **overrides,
        }
        return snap(NAMESPACE, "warehouse", {k: v for k, v in props.items() if v is not None}, protect=True)

    return make


@pytest.fixture
def workgroup(snap, tags):
    def make(**overrides):
        props = {
            "workgroupName": "retail-prod-warehouse",
            "namespaceName": "retail-prod-warehouse",
            "baseCapacity": 32.0,
            "maxCapacity": 128.0,
            "publiclyAccessible": False,
            "enhancedVpcRouting": True,
            "configParameters": [{"parameterKey": "require_ssl", "parameterValue": "true"}],
            "subnetIds": ["subnet-a", "subnet-b", "subnet-c"],
            "securityGroupIds": ["sg-1"],
            "tags": tags(environment="prod"),
            **overrides,
        }
        return snap(WORKGROUP, "warehouse", {k: v for k, v in props.items() if v is not None}, protect=True)

    return make


def test_compliant_warehouse_passes_these_rules_and_the_registered_pack(namespace, workgroup):
    resources = [namespace(), workgroup()]
    assert evaluate(resources, redshift_serverless.POLICIES).violations == []
    assert evaluate(resources, POLICIES).violations == []


def test_every_rule_names_its_control():
    assert sorted(p.description.split(":")[0] for p in redshift_serverless.POLICIES) == [
        f"RedshiftServerless.{n}" for n in range(1, 7)]


# --- RedshiftServerless.1 -------------------------------------------------------------------

@pytest.mark.parametrize("value", [False, None])
def test_workgroup_without_enhanced_vpc_routing_fails(workgroup, value):
    assert "enhanced_vpc_routing=True" in only("redshift-serverless-enhanced-vpc-routing",
                                               workgroup(enhancedVpcRouting=value))


# --- RedshiftServerless.2 -------------------------------------------------------------------

@pytest.mark.parametrize("parameters", [None, [], [{"parameterKey": "require_ssl", "parameterValue": "false"}],
                                        [{"parameterKey": "max_query_execution_time", "parameterValue": "3600"}]])
def test_workgroup_without_require_ssl_fails(workgroup, parameters):
    assert "require_ssl" in only("redshift-serverless-require-ssl", workgroup(configParameters=parameters))


def test_require_ssl_among_other_parameters_passes(workgroup):
    parameters = [{"parameterKey": "enable_case_sensitive_identifier", "parameterValue": "true"},
                  {"parameterKey": "require_ssl", "parameterValue": "true"}]
    assert run("redshift-serverless-require-ssl", workgroup(configParameters=parameters)).violations == []


# --- RedshiftServerless.3 -------------------------------------------------------------------

def test_public_workgroup_fails(workgroup):
    assert "publicly_accessible=False" in only("redshift-serverless-not-public", workgroup(publiclyAccessible=True))


def test_workgroup_left_at_the_private_default_passes(workgroup):
    assert run("redshift-serverless-not-public", workgroup(publiclyAccessible=None)).violations == []


# --- RedshiftServerless.4 -------------------------------------------------------------------

@pytest.mark.parametrize("key", [None, "", "alias/aws/redshift"])
def test_namespace_without_a_customer_key_fails(namespace, key):
    assert "kms_key_id" in only("redshift-serverless-encrypted", namespace(kmsKeyId=key))


def test_namespace_key_unknown_in_preview_passes(namespace):
    assert run("redshift-serverless-encrypted", namespace(kmsKeyId=UNKNOWN_STRING_VALUE)).violations == []


# --- RedshiftServerless.5 -------------------------------------------------------------------

@pytest.mark.parametrize("username", [None, "admin", "Admin", "awsuser", {"sig": "x", "value": "admin"}])
def test_namespace_with_the_default_admin_fails(namespace, username):
    assert "admin_username" in only("redshift-serverless-non-default-admin", namespace(adminUsername=username))


def test_secret_non_default_admin_passes(namespace):
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "wh_owner"}
    assert run("redshift-serverless-non-default-admin", namespace(adminUsername=secret)).violations == []


# --- RedshiftServerless.6 -------------------------------------------------------------------

@pytest.mark.parametrize("exports, missing", [
    (None, "connectionlog, userlog, useractivitylog"),
    (["connectionlog", "userlog"], "useractivitylog"),
    (["useractivitylog"], "connectionlog, userlog"),
])
def test_namespace_without_audit_logs_fails(namespace, exports, missing):
    assert f"does not export {missing}" in only("redshift-serverless-audit-logging", namespace(logExports=exports))
