"""The Warehouse component (Redshift Serverless), built alone under the project's mocks."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from blueprint import ResourceGraph
from blueprint.checks import snapshots
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.analytics.warehouse import (
    CURATED_PREFIX,
    DR_EXEMPTION,
    LOG_EXPORTS,
    WAREHOUSE_PORT,
    LakeAccess,
    Warehouse,
    WarehouseArgs,
    ZeroEtlSource,
)
from components.analytics.warehouse_settings import WarehouseConfig
from components.common.conventions import STANDARD_TAG_KEYS
from components.resilience.objectives import DR_EXEMPT_TAG
from config.loader import parse_stack_config
from policies import redshift_serverless
from policies.offline import evaluate
from policies.registry import POLICIES as REGISTERED
from tests.support import PROJECT, stack_context

NAMESPACE = "aws:redshiftserverless/namespace:Namespace"
WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup"
USAGE_LIMIT = "aws:redshiftserverless/usageLimit:UsageLimit"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
RESOURCE_POLICY = "aws:redshift/resourcePolicy:ResourcePolicy"
RDS_INTEGRATION = "aws:rds/integration:Integration"
REDSHIFT_INTEGRATION = "aws:redshift/integration:Integration"
TABLE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"

REGION = "eu-west-1"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/11111111-1111-4111-8111-111111111111"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/22222222-2222-4222-8222-222222222222"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/33333333-3333-4333-8333-333333333333"
LAKE = f"arn:aws:s3:::retail-prod-data-lake-{ACCOUNT_ID}"
AURORA = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:retail-prod-orders"
INVENTORY = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-inventory"
SUBNETS = ["subnet-0a", "subnet-0b", "subnet-0c"]
CLIENTS = {"reporting": "sg-0reporting", "bi": "sg-0bi"}

SETTINGS = WarehouseConfig.model_validate({
    "baseCapacity": 32, "maxCapacity": 128, "usageLimitRpuHours": 2000, "breachAction": "deactivate",
    "adminUsername": "wh_owner", "databaseName": "analytics"})


def build(stack: str = "prod", *, zero_etl: bool = True, dr_region: str | None = "eu-central-1",
          **changes: Any) -> ResourceGraph:
    config = parse_stack_config(PROJECT.stack_config(stack))
    args: dict[str, Any] = dict(
        settings=SETTINGS, data_key_arn=DATA_KEY, secrets_key_arn=SECRETS_KEY, logs_key_arn=LOGS_KEY,
        log_retention_days=365, vpc_id="vpc-0123", subnet_ids=SUBNETS, client_security_group_ids=CLIENTS,
        lake=LakeAccess(bucket_arn=LAKE, glue_database="retail_prod_lake"),
        zero_etl_sources=[ZeroEtlSource("orders", "aurora-postgresql", AURORA),
                          ZeroEtlSource("inventory", "dynamodb", INVENTORY)] if zero_etl else [],
        dr_region=dr_region, s3_prefix_list_id="pl-6da54004", endpoint_security_group_id="sg-0endpoints")
    args.update(changes)

    def program() -> None:
        context = stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod)
        warehouse = Warehouse("warehouse", context, WarehouseArgs(**args))
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}}]}
        analyst = aws.iam.Role("analyst", assume_role_policy=json.dumps(trust),
                               tags=context.conventions.tags("analyst"))
        warehouse.grant_analyst(analyst)

    return run_program(program, project="retail", stack=stack, config={"aws:region": config.region})


@cache
def built(stack: str = "prod") -> ResourceGraph:
    return build(stack)


def plain(value: Any) -> Any:
    """A secret input (the provider marks adminUsername secret) as its value."""
    return value["value"] if isinstance(value, dict) and "value" in value else value


def policy_of(graph: ResourceGraph, name: str) -> dict[str, Any]:
    return json.loads(graph.one(ROLE_POLICY, name).inputs["policy"])


# -- the namespace ----------------------------------------------------------------------------

def test_namespace_is_encrypted_with_our_data_key_and_its_password_is_managed():
    namespace = built().one(NAMESPACE)
    assert namespace.inputs["kmsKeyId"] == DATA_KEY
    assert namespace.inputs["manageAdminPassword"] is True
    assert namespace.inputs["adminPasswordSecretKmsKeyId"] == SECRETS_KEY
    assert "adminUserPassword" not in namespace.inputs and "adminUserPasswordWo" not in namespace.inputs
    assert plain(namespace.inputs["adminUsername"]) == "wh_owner"
    assert namespace.inputs["dbName"] == "analytics"
    assert namespace.region == REGION
    assert set(STANDARD_TAG_KEYS) <= set(namespace.inputs["tags"])


def test_namespace_exports_every_audit_log_into_our_encrypted_log_groups():
    graph = built()
    namespace = graph.one(NAMESPACE)
    assert sorted(namespace.inputs["logExports"]) == sorted(LOG_EXPORTS) == sorted(
        ["connectionlog", "userlog", "useractivitylog"])
    groups = {g.inputs["name"]: g for g in graph.of_type(LOG_GROUP)}
    physical = namespace.inputs["namespaceName"]
    assert set(groups) == {f"/aws/redshift/{physical}/{kind}" for kind in LOG_EXPORTS}
    assert all(g.inputs["kmsKeyId"] == LOGS_KEY and g.inputs["retentionInDays"] == 365 for g in groups.values())
    # Created before the namespace exports into them.
    assert all(graph.depends_on(namespace.urn, g.urn) for g in groups.values())


def test_non_default_names_are_required():
    base = SETTINGS.model_dump(by_alias=True)
    for key, value in (("adminUsername", "admin"), ("adminUsername", "awsuser"), ("databaseName", "dev")):
        with pytest.raises(ValidationError, match=key):
            WarehouseConfig.model_validate({**base, key: value})
    with pytest.raises(ValidationError, match="multiple of 8"):
        WarehouseConfig.model_validate({**base, "baseCapacity": 12})
    with pytest.raises(ValidationError, match="maxCapacity 16 is below baseCapacity 32"):
        WarehouseConfig.model_validate({**base, "maxCapacity": 16})
    with pytest.raises(ValidationError, match="breachAction"):
        WarehouseConfig.model_validate({**base, "breachAction": "ignore"})
    with pytest.raises(ValidationError):
        WarehouseConfig.model_validate({**base, "unknownKey": 1})


# -- the workgroup ----------------------------------------------------------------------------

def test_workgroup_is_private_routed_through_the_vpc_and_requires_tls():
    graph = built()
    workgroup = graph.one(WORKGROUP)
    assert workgroup.inputs["publiclyAccessible"] is False
    assert workgroup.inputs["enhancedVpcRouting"] is True
    params = {p["parameterKey"]: p["parameterValue"] for p in workgroup.inputs["configParameters"]}
    assert params["require_ssl"] == "true"
    assert params["enable_case_sensitive_identifier"] == "true"  # zero-ETL targets need it
    assert workgroup.inputs["baseCapacity"] == 32 and workgroup.inputs["maxCapacity"] == 128
    assert workgroup.inputs["subnetIds"] == SUBNETS
    group = graph.one(SECURITY_GROUP)
    assert workgroup.inputs["securityGroupIds"] == [group.id]
    assert workgroup.property_dependencies["namespaceName"] == (graph.one(NAMESPACE).urn,)


def test_only_the_named_client_groups_reach_the_port():
    graph = built()
    group = graph.one(SECURITY_GROUP)
    assert "ingress" not in group.inputs or not group.inputs["ingress"]
    ingress = [r for r in graph.of_type(INGRESS) if r.inputs["securityGroupId"] == group.id]
    assert {r.inputs["referencedSecurityGroupId"] for r in ingress} == set(CLIENTS.values())
    assert all((r.inputs["fromPort"], r.inputs["toPort"]) == (WAREHOUSE_PORT, WAREHOUSE_PORT) for r in ingress)
    assert not any("cidrIpv4" in r.inputs or "cidrIpv6" in r.inputs for r in ingress)


def test_egress_is_https_to_the_s3_prefix_list_and_the_endpoints_only():
    graph = built()
    group = graph.one(SECURITY_GROUP)
    egress = [r for r in graph.of_type(EGRESS) if r.inputs["securityGroupId"] == group.id]
    assert {(r.inputs.get("prefixListId"), r.inputs.get("referencedSecurityGroupId")) for r in egress} \
        == {("pl-6da54004", None), (None, "sg-0endpoints")}
    assert all((r.inputs["fromPort"], r.inputs["toPort"], r.inputs["ipProtocol"]) == (443, 443, "tcp")
               for r in egress)
    assert not any("cidrIpv4" in r.inputs for r in egress)
    bare = build("dev", zero_etl=False, dr_region=None, s3_prefix_list_id=None, endpoint_security_group_id=None)
    assert not [r for r in bare.of_type(EGRESS) if r.inputs["securityGroupId"] == bare.one(SECURITY_GROUP).id]


def test_usage_limit_caps_compute_with_the_breach_action():
    graph = built()
    limit = graph.one(USAGE_LIMIT)
    assert limit.inputs["usageType"] == "serverless-compute"
    assert limit.inputs["amount"] == 2000
    assert limit.inputs["breachAction"] == "deactivate"
    assert limit.inputs["period"] == "monthly"
    assert limit.property_dependencies["resourceArn"] == (graph.one(WORKGROUP).urn,)


@pytest.mark.parametrize("stack, protected", [("dev", False), ("prod", True)])
def test_namespace_and_workgroup_are_protected_in_prod(stack, protected):
    graph = build(stack, zero_etl=False, dr_region=None)
    assert graph.one(NAMESPACE).protect is protected
    assert graph.one(WORKGROUP).protect is protected
    assert all(g.protect is protected and g.inputs["deletionProtectionEnabled"] is protected
               for g in graph.of_type(LOG_GROUP))


# -- Spectrum and the analyst -----------------------------------------------------------------

def test_spectrum_role_is_redshifts_and_reads_the_curated_lake_only():
    graph = built()
    role = graph.one(ROLE, "warehouse-spectrum")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    [stmt] = trust["Statement"]
    assert stmt["Principal"] == {"Service": "redshift.amazonaws.com"}
    assert stmt["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}}
    namespace = graph.one(NAMESPACE)
    assert namespace.property_dependencies["iamRoles"] == (role.urn,)
    assert namespace.property_dependencies["defaultIamRoleArn"] == (role.urn,)
    document = policy_of(graph, "warehouse-spectrum-lake")
    actions = {a for s in document["Statement"] for a in s["Action"]}
    assert not any(a.startswith(("glue:Create", "glue:Update", "glue:Delete", "s3:Put", "s3:Delete"))
                   for a in actions)
    resources = {r for s in document["Statement"] for r in s["Resource"]}
    assert f"{LAKE}/{CURATED_PREFIX}*" in resources
    assert not any(r.startswith(f"{LAKE}/") and not r.startswith(f"{LAKE}/{CURATED_PREFIX}") for r in resources)
    assert not any(r == "*" for r in resources)
    kms = [s for s in document["Statement"] if any(a.startswith("kms:") for a in s["Action"])]
    assert kms and all(s["Resource"] == [DATA_KEY]
                       and s["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{REGION}.amazonaws.com"
                       for s in kms)


def test_analyst_gets_credentials_for_this_workgroup_only():
    graph = built()
    document = policy_of(graph, "warehouse-analyst-analyst")
    [creds] = [s for s in document["Statement"] if "redshift-serverless:GetCredentials" in s["Action"]]
    workgroup_arn = creds["Resource"]
    assert len(workgroup_arn) == 1 and workgroup_arn[0] != "*" and ":workgroup/" in workgroup_arn[0]
    resources = {r for s in document["Statement"] for r in s["Resource"]}
    assert not any(r.startswith(f"{LAKE}/") and not r.startswith(f"{LAKE}/{CURATED_PREFIX}") for r in resources)


def test_lake_access_refuses_the_raw_zone_and_wildcards():
    for prefix in ("raw/", "", "/", "curated/*", "curated"):
        with pytest.raises(ValueError, match="prefix"):
            LakeAccess(bucket_arn=LAKE, glue_database="lake", prefix=prefix)


# -- zero-ETL ---------------------------------------------------------------------------------

def test_zero_etl_integrations_from_aurora_and_dynamodb_are_authorised_by_source():
    graph = built()
    namespace = graph.one(NAMESPACE)
    aurora = graph.one(RDS_INTEGRATION)
    dynamo = graph.one(REDSHIFT_INTEGRATION)
    assert aurora.inputs["sourceArn"] == AURORA and dynamo.inputs["sourceArn"] == INVENTORY
    for integration in (aurora, dynamo):
        assert integration.property_dependencies["targetArn"] == (namespace.urn,)
        assert integration.inputs["kmsKeyId"] == DATA_KEY
    policy = graph.one(RESOURCE_POLICY)
    document = json.loads(policy.inputs["policy"])
    [authorize] = [s for s in document["Statement"] if s["Action"] == ["redshift:AuthorizeInboundIntegration"]]
    assert sorted(authorize["Condition"]["StringEquals"]["aws:SourceArn"]) == sorted([AURORA, INVENTORY])
    assert authorize["Principal"] == {"Service": "redshift.amazonaws.com"}
    [create] = [s for s in document["Statement"] if s["Action"] == ["redshift:CreateInboundIntegration"]]
    assert create["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}
    table_policy = json.loads(graph.one(TABLE_POLICY).inputs["policy"])
    [export] = table_policy["Statement"]
    assert export["Principal"] == {"Service": "redshift.amazonaws.com"}
    assert export["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}


def test_without_sources_there_is_no_integration_and_no_case_sensitivity():
    graph = build("dev", zero_etl=False, dr_region=None)
    assert not graph.of_type(RDS_INTEGRATION) and not graph.of_type(REDSHIFT_INTEGRATION)
    assert not graph.of_type(RESOURCE_POLICY)
    params = {p["parameterKey"] for p in graph.one(WORKGROUP).inputs["configParameters"]}
    assert params == {"require_ssl"}


# -- DR ---------------------------------------------------------------------------------------

def test_dr_stack_documents_why_the_namespace_has_no_copy():
    tags = built().one(NAMESPACE).inputs["tags"]
    assert tags[DR_EXEMPT_TAG] == DR_EXEMPTION
    assert len(DR_EXEMPTION) <= 256 and not set(",()") & set(DR_EXEMPTION)
    assert DR_EXEMPT_TAG not in build("dev", zero_etl=False, dr_region=None).one(NAMESPACE).inputs["tags"]


# -- the pack ---------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_warehouse_passes_the_pack_and_its_own_rules(stack):
    graph = built() if stack == "prod" else build("dev", zero_etl=False, dr_region=None)
    report = evaluate(snapshots(graph), [*REGISTERED, *redshift_serverless.POLICIES])
    assert [(v.policy, (v.urn or "").split("::")[-1], v.message) for v in report.violations] == []


def test_the_rules_catch_a_public_unencrypted_warehouse():
    graph = built()
    bad = [dataclasses.replace(s, props={**s.props, "publiclyAccessible": True, "kmsKeyId": None})
           if s.type in (WORKGROUP, NAMESPACE) else s for s in snapshots(graph)]
    names = {v.policy for v in evaluate(bad, redshift_serverless.POLICIES).violations}
    assert names == {"redshift-serverless-not-public", "redshift-serverless-encrypted"}
