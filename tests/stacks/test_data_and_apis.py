"""The warehouse and the partner APIs as the stacks build them: the paths they depend on are
wired end to end (zero-ETL sources are *our* Aurora cluster and tables, encrypted with *our*
data key, which admits Redshift's integrations; each partner operation reaches the service
that answers it through the VPC link, the NLB listener, the target group and the pods'
binding), and what is off stays off."""

from __future__ import annotations

import json
from typing import Any

import pytest

from blueprint.access import access_report
from blueprint.dr import dr_report
from blueprint.graph import Resource, ResourceGraph
from components.api.backends import FIRST_BACKEND_PORT
from components.api.partner_api import operations
from components.data.sql_database import ZERO_ETL_PARAMETERS
from config.loader import parse_stack_config
from tests.support import PROJECT

NAMESPACE = "aws:redshiftserverless/namespace:Namespace"
WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup"
RDS_INTEGRATION = "aws:rds/integration:Integration"
REDSHIFT_INTEGRATION = "aws:redshift/integration:Integration"
CLUSTER = "aws:rds/cluster:Cluster"
PARAMETER_GROUP = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
TABLE = "aws:dynamodb/table:Table"
KEY = "aws:kms/key:Key"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
SUBNET = "aws:ec2/subnet:Subnet"
REST_API = "aws:apigateway/restApi:RestApi"
STAGE = "aws:apigateway/stage:Stage"
VPC_LINK = "aws:apigateway/vpcLink:VpcLink"
LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
ZERO_ETL_SID = "AllowRedshiftZeroEtlIntegrationsOfThisAccount"


def data_key(graph: ResourceGraph) -> Resource:
    (key,) = [k for k in graph.of_type(KEY) if k.inputs["tags"]["key-domain"] == "data"
              and k.inputs["region"] == graph.region]
    return key


def data_key_policy(graph: ResourceGraph) -> dict[str, Any]:
    """What the data key enforces: its KeyPolicy when the CDN admission made one, else its own."""
    key = data_key(graph)
    managed = [p for p in graph.of_type(KEY_POLICY) if key.urn in p.property_dependencies.get("keyId", ())]
    return json.loads(managed[0].inputs["policy"] if managed else key.inputs["policy"])


def key_arn(graph: ResourceGraph) -> str:
    return graph.outputs["kmsKeyArns"]["data"]


# -- the warehouse --------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_warehouse_is_encrypted_with_our_data_key_in_the_isolated_subnets(graph_of, stack):
    graph = graph_of(stack)
    namespace, workgroup = graph.one(NAMESPACE), graph.one(WORKGROUP)
    assert namespace.inputs["kmsKeyId"] == key_arn(graph)
    isolated = {s.id for s in graph.of_type(SUBNET) if s.inputs["tags"].get("tier") == "isolated"
                and s.region == graph.region}
    assert set(workgroup.inputs["subnetIds"]) == isolated and len(isolated) >= 3
    assert workgroup.inputs["publiclyAccessible"] is False and workgroup.inputs["enhancedVpcRouting"] is True


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_zero_etl_replicates_our_aurora_cluster_and_declared_tables_into_our_namespace(graph_of, stack):
    graph = graph_of(stack)
    namespace = graph.one(NAMESPACE)
    (cluster,) = [c for c in graph.of_type(CLUSTER) if c.region == graph.region]
    (sql,) = graph.of_type(RDS_INTEGRATION)
    assert cluster.urn in sql.property_dependencies["sourceArn"]
    assert namespace.urn in sql.property_dependencies["targetArn"]
    tables = {t.urn: t.inputs["name"] for t in graph.of_type(TABLE) if t.region == graph.region}
    sourced = sorted(tables[urn] for i in graph.of_type(REDSHIFT_INTEGRATION)
                     for urn in i.property_dependencies["sourceArn"] if urn in tables)
    assert sourced == sorted(f"retail-{stack}-{t}" for t in ("orders", "inventory"))
    for integration in [sql, *graph.of_type(REDSHIFT_INTEGRATION)]:
        assert integration.inputs["kmsKeyId"] == key_arn(graph)
        assert namespace.urn in integration.property_dependencies["targetArn"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_source_cluster_has_the_logical_replication_zero_etl_needs(graph_of, stack):
    graph = graph_of(stack)
    (group,) = [g for g in graph.of_type(PARAMETER_GROUP) if g.region == graph.region]
    parameters = {(p["name"], p["value"], p["applyMethod"]) for p in group.inputs["parameters"]}
    assert set(ZERO_ETL_PARAMETERS) <= parameters


def test_the_dr_cluster_and_a_stack_without_warehouse_keep_the_plain_parameters(graph_of):
    prod = graph_of("prod")
    (dr_group,) = [g for g in prod.of_type(PARAMETER_GROUP) if g.region != prod.region]
    names = {p["name"] for p in dr_group.inputs["parameters"]}
    assert not names & {name for name, _, _ in ZERO_ETL_PARAMETERS}
    dev = graph_of("dev")
    assert not dev.of_type(NAMESPACE) and not dev.of_type(RDS_INTEGRATION)
    (group,) = dev.of_type(PARAMETER_GROUP)
    assert not {p["name"] for p in group.inputs["parameters"]} & {name for name, _, _ in ZERO_ETL_PARAMETERS}


def test_the_data_key_admits_redshift_integrations_only_where_a_warehouse_takes_zero_etl(graph_of):
    prod = graph_of("prod")
    (statement,) = [s for s in data_key_policy(prod)["Statement"] if s.get("Sid") == ZERO_ETL_SID]
    assert statement["Principal"] == {"Service": "redshift.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    assert ZERO_ETL_SID not in {s.get("Sid") for s in data_key_policy(graph_of("dev"))["Statement"]}


def test_only_the_analyst_gets_warehouse_credentials_and_only_the_curated_lake(graph_of):
    report = access_report(graph_of("prod"))
    (workgroup,) = [s for s in report.stores if s.kind == "redshift-serverless"]
    holders = sorted(p.name for p in report.principals if report.access[p.id].get(workgroup.id))
    assert holders == ["analyst"]
    (analyst,) = [p for p in report.principals if p.name == "analyst"]
    (lake,) = [s for s in report.stores if s.id == "s3:retail-prod-data-lake-123456789012"]
    reads = report.access[analyst.id][lake.id]
    assert reads == ["s3:GetObject on curated/*"]
    trust = json.loads(graph_of("prod").one("aws:iam/role:Role", "analyst").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Condition"] == {"Bool": {"aws:MultiFactorAuthPresent": "true"}}


# -- the partner APIs ---------------------------------------------------------------------------

def by_urn(graph: ResourceGraph) -> dict[str, Resource]:
    return {r.urn: r for r in graph.resources}


def test_each_partner_operation_reaches_the_service_that_answers_it(graph_of):
    graph = graph_of("prod")
    config = parse_stack_config(PROJECT.stack_config("prod"))
    assert config.api is not None
    backends = config.api.backends
    (nlb,) = [lb for lb in graph.of_type(LB) if lb.inputs.get("loadBalancerType") == "network"]
    listeners = {int(listener.inputs["port"]): listener for listener in graph.of_type(LISTENER)
                 if nlb.urn in listener.property_dependencies["loadBalancerArn"]}
    groups = {g.urn: g for g in graph.of_type(TARGET_GROUP)}
    bindings = {b.inputs["metadata"]["name"]: b for b in graph.of_type(BINDING)}
    (api,) = graph.of_type(REST_API)
    body = json.loads(api.inputs["body"])
    checked = 0
    for _path, _method, operation in operations(body):
        service = backends[operation["operationId"]]
        integration = operation["x-amazon-apigateway-integration"]
        assert integration["connectionType"] == "VPC_LINK"
        port = int(integration["uri"].split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
        assert port >= FIRST_BACKEND_PORT
        listener = listeners[port]
        assert listener.inputs["protocol"] == "TLS"
        (group_urn,) = listener.property_dependencies["defaultActions"]
        group = groups[group_urn]
        assert group.inputs["tags"]["service"] == service
        binding = bindings[f"{service}-partners"]
        assert group.urn in binding.property_dependencies.get("spec", ())
        checked += 1
    assert checked == len(backends)
    (link,) = graph.of_type(VPC_LINK)
    assert nlb.urn in link.property_dependencies["targetArn"]


def test_nothing_but_the_vpc_link_reaches_the_partner_nlb(graph_of):
    graph = graph_of("prod")
    (nlb,) = [lb for lb in graph.of_type(LB) if lb.inputs.get("loadBalancerType") == "network"]
    assert nlb.inputs["internal"] is True
    assert nlb.inputs["enforceSecurityGroupInboundRulesOnPrivateLinkTraffic"] == "off"
    groups = [g for g in graph.of_type(SECURITY_GROUP) if g.urn in nlb.property_dependencies["securityGroups"]]
    (group,) = groups
    assert not group.inputs.get("ingress")
    assert not [r for r in graph.of_type(INGRESS) if group.urn in r.property_dependencies["securityGroupId"]]


def test_the_partner_stage_has_its_own_web_acl_without_bot_control(graph_of):
    graph = graph_of("prod")
    resources = by_urn(graph)
    (stage,) = graph.of_type(STAGE)
    (association,) = [a for a in graph.of_type(WAF_ASSOCIATION)
                      if stage.urn in a.property_dependencies["resourceArn"]]
    (acl_urn,) = association.property_dependencies["webAclArn"]
    acl = resources[acl_urn]
    assert acl.name == "waf-partners"
    rules = {r["name"] for r in acl.inputs["rules"]}
    assert "aws-bot-control" not in rules and "aws-anonymous-ip" not in rules
    (rate,) = [r for r in acl.inputs["rules"] if r["name"] == "rate-limit-per-ip"]
    assert rate["statement"]["rateBasedStatement"]["limit"] == 120_000


def test_stacks_without_a_domain_build_no_partner_api(graph_of):
    dev = graph_of("dev")
    assert not dev.of_type(REST_API) and not [lb for lb in dev.of_type(LB)
                                              if lb.inputs.get("loadBalancerType") == "network"]


@pytest.mark.parametrize("stack", ["staging", "prod"])
def test_the_dr_report_says_how_the_warehouse_comes_back(graph_of, stack):
    config = parse_stack_config(PROJECT.stack_config(stack))
    report = dr_report(graph_of(stack), config.dr.strategy, config.dr.region)
    (reason,) = [reason for name, reason in report.exempt if name == f"retail-{stack}-warehouse"]
    assert "rebuilt in the DR region" in reason and "zero-ETL" in reason
