"""The LoadBalancer component (ALB behind CloudFront), built alone under the project's mocks."""

from __future__ import annotations

import json
from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.conventions import STANDARD_TAG_KEYS
from components.edge.load_balancer import (
    ACCESS_LOG_PREFIX,
    CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST,
    ELB_LOG_DELIVERY_PRINCIPAL,
    ORIGIN_SECRET_HEADER,
    TLS_POLICY,
    LoadBalancer,
    LoadBalancerArgs,
    alb_log_delivery_statement,
    elb_name,
    exposed_services,
    path_patterns,
    rule_priorities,
)
from config.loader import parse_stack_config
from config.stack import StackConfig
from policies._taggable import is_taggable
from tests.support import PROJECT, stack_context

ALB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"

REGION = "eu-west-1"
VPC_ID = "vpc-0a1b2c3d4e5f60718"
VPC_CIDR = "10.30.0.0/16"
PUBLIC_SUBNETS = ("subnet-0aa11bb22cc33dd44", "subnet-0ee55ff66aa77bb88", "subnet-0cc99dd00ee11ff22")
LOGS_BUCKET = f"retail-prod-logs-{ACCOUNT_ID}"
SECRET = "Q3xv9TqLk2mZ8rWbN4yHc7JdF6sGa1Pe"
DOMAIN = {"zoneName": "example.com", "recordName": "shop.example.com"}


def stack_config(stack: str, domain: dict | None = None) -> StackConfig:
    raw = PROJECT.stack_config(stack)
    if domain is not None:
        edge = json.loads(raw.get("retail:edge", "{}"))
        raw["retail:edge"] = json.dumps({**edge, "domain": domain})
    return parse_stack_config(raw)


@cache
def built(stack: str = "prod", with_domain: bool = True) -> tuple[ResourceGraph, StackConfig]:
    config = stack_config(stack, DOMAIN if with_domain else None)
    assert config.region == REGION

    def program() -> None:
        LoadBalancer("edge",
            stack_context(conventions=config.conventions(stack), region=config.region, protect=config.is_prod),
            LoadBalancerArgs(
                vpc_id=VPC_ID,
                vpc_cidr=VPC_CIDR,
                public_subnet_ids=list(PUBLIC_SUBNETS),
                logs_bucket_name=LOGS_BUCKET,
                origin_secret=SECRET,
                services=config.services,
                domain=config.edge.domain,
            ))

    return run_program(program, project="retail", stack=stack, config={"aws:region": config.region}), config


def graph(stack: str = "prod", with_domain: bool = True) -> ResourceGraph:
    return built(stack, with_domain)[0]


#: How the engine marks a secret value in recorded inputs.
SECRET_SIG = "4dabf18193072939515e22adb298388d"


def unsecret(value):
    """The plain value of an input the engine recorded as secret (the origin secret makes the
    whole property secret, as it should: it must not show in plans or state in clear)."""
    return value["value"] if isinstance(value, dict) and SECRET_SIG in value else value


def listener(g: ResourceGraph, port: int) -> Resource:
    [found] = [r for r in g.of_type(LISTENER) if r.inputs["port"] == port]
    return found


# -- the load balancer ----------------------------------------------------------------------

def test_alb_is_internet_facing_in_the_public_subnets_with_the_elb_controls():
    alb = graph().one(ALB)
    inputs = alb.inputs
    assert inputs["loadBalancerType"] == "application"
    assert inputs["internal"] is False
    assert inputs["subnets"] == list(PUBLIC_SUBNETS)  # ELB.13
    assert inputs["dropInvalidHeaderFields"] is True  # ELB.4
    assert inputs["desyncMitigationMode"] == "defensive"  # ELB.12
    assert inputs["accessLogs"] == {"bucket": LOGS_BUCKET, "prefix": ACCESS_LOG_PREFIX, "enabled": True}  # ELB.5
    assert inputs["region"] == REGION
    assert inputs["name"] == "retail-prod-edge"


def test_prod_alb_has_deletion_protection_and_is_protected():
    alb = graph("prod").one(ALB)
    assert alb.inputs["enableDeletionProtection"] is True  # ELB.6
    assert alb.protect is True


def test_dev_alb_can_be_deleted():
    alb = graph("dev").one(ALB)
    assert alb.inputs["enableDeletionProtection"] is False
    assert alb.protect is False


def test_an_alb_needs_two_subnets():
    config = stack_config("dev")
    with pytest.raises(ValueError, match="at least two AZs"):
        run_program(lambda: LoadBalancer("edge",
            stack_context(conventions=config.conventions("dev"), region=REGION),
            LoadBalancerArgs(
                vpc_id=VPC_ID,
                vpc_cidr=VPC_CIDR,
                public_subnet_ids=[PUBLIC_SUBNETS[0]],
                logs_bucket_name=LOGS_BUCKET,
                origin_secret=SECRET,
            )),
            project="retail", stack="dev", config={"aws:region": REGION})


# -- security group -------------------------------------------------------------------------

def test_ingress_is_443_from_the_cloudfront_prefix_list_only():
    g = graph()
    [rule] = g.of_type(INGRESS)
    assert rule.inputs["fromPort"] == rule.inputs["toPort"] == 443
    assert rule.inputs["ipProtocol"] == "tcp"
    assert rule.inputs["prefixListId"].startswith("pl-")
    assert "cidrIpv4" not in rule.inputs and "cidrIpv6" not in rule.inputs  # EC2.18/19
    group = g.one(SECURITY_GROUP)
    assert "ingress" not in group.inputs and "egress" not in group.inputs
    assert rule.parent == group.urn


def test_prefix_list_is_the_origin_facing_one():
    assert CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST == "com.amazonaws.global.cloudfront.origin-facing"


def test_egress_reaches_the_vpc_on_the_service_ports_only():
    g, config = built()
    ports = {s.port for s in config.services if s.path is not None}
    egress = g.of_type(EGRESS)
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in egress} == {(p, p) for p in ports}
    assert {r.inputs["cidrIpv4"] for r in egress} == {VPC_CIDR}


# -- listeners ------------------------------------------------------------------------------

def test_https_listener_uses_tls13_policy_and_a_validated_certificate():
    g = graph()
    https = listener(g, 443)
    assert https.inputs["protocol"] == "HTTPS"
    assert https.inputs["sslPolicy"] == TLS_POLICY == "ELBSecurityPolicy-TLS13-1-2-2021-06"  # ELB.17
    certificate = g.one(CERTIFICATE)
    assert certificate.inputs["domainName"] == "origin.shop.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    assert certificate.region == REGION
    assert https.inputs["certificateArn"].startswith(f"arn:aws:acm:{REGION}:{ACCOUNT_ID}:certificate/")
    validation = g.one(VALIDATION)
    assert g.depends_on(https.urn, validation.urn)


def test_https_default_action_is_403():
    [action] = listener(graph(), 443).inputs["defaultActions"]
    assert action["type"] == "fixed-response"
    assert action["fixedResponse"]["statusCode"] == "403"


def test_http_listener_only_redirects_to_https():  # ELB.1
    [action] = listener(graph(), 80).inputs["defaultActions"]
    assert action["type"] == "redirect"
    assert action["redirect"] == {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}


def test_origin_record_aliases_the_alb():
    g = graph()
    records = [r for r in g.of_type(RECORD) if r.inputs.get("type") == "A"]
    [origin] = records
    assert origin.inputs["name"] == "origin.shop.example.com"
    assert origin.inputs["aliases"][0]["name"].endswith(f".{REGION}.elb.amazonaws.com")


def test_every_rule_requires_the_secret_header_and_its_path():
    g, config = built()
    rules = {r.name.removeprefix("edge-"): r for r in g.of_type(RULE)}
    exposed = {s.name: s for s in config.services if s.path is not None}
    assert set(rules) == set(exposed)
    for name, rule in rules.items():
        conditions = unsecret(rule.inputs["conditions"])
        assert rule.inputs["conditions"] != conditions  # recorded as a secret
        header = next(c["httpHeader"] for c in conditions if "httpHeader" in c)
        assert header == {"httpHeaderName": ORIGIN_SECRET_HEADER, "values": [SECRET]}
        paths = next(c["pathPattern"]["values"] for c in conditions if "pathPattern" in c)
        assert paths == path_patterns(exposed[name].path)
        [action] = rule.inputs["actions"]
        assert action["type"] == "forward"
        assert action["targetGroupArn"].startswith(f"arn:aws:elasticloadbalancing:{REGION}:")


def test_rule_priorities_are_unique_and_the_catch_all_comes_last():
    g = graph()
    priorities = {r.name: r.inputs["priority"] for r in g.of_type(RULE)}
    assert len(set(priorities.values())) == len(priorities)
    assert priorities["edge-storefront"] == max(priorities.values())


def test_target_groups_are_ip_mode_http_with_readiness_checks():
    g, config = built()
    groups = {r.name: r for r in g.of_type(TARGET_GROUP)}
    exposed = [s for s in config.services if s.path is not None]
    assert set(groups) == {f"edge-{s.name}" for s in exposed}
    for service in exposed:
        inputs = groups[f"edge-{service.name}"].inputs
        assert inputs["targetType"] == "ip"
        assert inputs["protocol"] == "HTTP"
        assert inputs["port"] == service.port
        assert inputs["vpcId"] == VPC_ID
        assert inputs["deregistrationDelay"] == 30
        assert inputs["healthCheck"]["path"] == "/readyz"
        assert len(inputs["name"]) <= 32


def test_every_taggable_resource_has_the_standard_tags_and_a_region():
    for resource in graph():
        if resource.custom and is_taggable(resource.type):
            assert set(STANDARD_TAG_KEYS) <= set(resource.inputs.get("tags", {})), resource.name
        if resource.custom and resource.type.startswith(("aws:lb", "aws:ec2", "aws:vpc", "aws:acm")):
            assert resource.inputs.get("region") == REGION, resource.name


# -- without a domain -----------------------------------------------------------------------

def test_without_a_domain_there_is_no_listener_no_certificate_and_a_warning():
    g = graph("dev", with_domain=False)
    assert g.of_type(LISTENER) == [] and g.of_type(RULE) == []
    assert g.of_type(CERTIFICATE) == [] and g.of_type(RECORD) == []
    assert len(g.of_type(TARGET_GROUP)) == 4  # still there for TargetGroupBinding
    assert any("retail:edge.domain" in w and "static assets only" in w for w in g.warnings)


def test_without_a_domain_no_port_80_is_opened_either():
    [rule] = graph("dev", with_domain=False).of_type(INGRESS)
    assert rule.inputs["fromPort"] == 443


# -- pure functions -------------------------------------------------------------------------

def test_path_patterns_do_not_match_siblings():
    assert path_patterns("/cart") == ["/cart", "/cart/*"]
    assert path_patterns("/cart/") == ["/cart", "/cart/*"]
    assert path_patterns("/") == ["/*"]


def test_exposed_services_most_specific_first():
    config = stack_config("prod")
    names = [s.name for s in exposed_services(config.services)]
    assert names[-1] == "storefront"
    assert rule_priorities(config.services)["storefront"] == 10 * len(names)


def test_elb_names_fit_32_characters_and_stay_distinct():
    conv = stack_config("dev").conventions("a-rather-long-stack-name-for-tests")
    first, second = elb_name(conv, "recommendations"), elb_name(conv, "recommendations-v2")
    assert len(first) <= 32 and len(second) <= 32 and first != second
    assert elb_name(stack_config("dev").conventions("dev"), "edge") == "retail-dev-edge"


@pytest.mark.parametrize("region, legacy", [("eu-west-1", "156460612806"), ("us-east-1", "127311923021"),
                                            ("eu-central-1", "054676820928"), ("eu-south-2", None)])
def test_alb_log_delivery_statement(region, legacy):
    bucket = f"arn:aws:s3:::{LOGS_BUCKET}"
    statement = alb_log_delivery_statement(region)(bucket, "aws", ACCOUNT_ID)
    assert statement["Effect"] == "Allow" and statement["Action"] == ["s3:PutObject"]
    assert statement["Resource"] == [f"{bucket}/alb/AWSLogs/{ACCOUNT_ID}/*"]
    assert statement["Principal"]["Service"] == ELB_LOG_DELIVERY_PRINCIPAL
    if legacy is None:
        assert "AWS" not in statement["Principal"]
    else:
        assert statement["Principal"]["AWS"] == f"arn:aws:iam::{legacy}:root"
