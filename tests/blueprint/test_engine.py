"""The offline engine: the real program under mocks, recorded as a graph."""

from __future__ import annotations

import json
import re

import jsonschema
import pulumi
import pytest
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from blueprint import Project, ResourceGraph, StackNotFoundError, synthesize
from blueprint.graph import SCHEMA_VERSION, load_schema
from blueprint.mocks import ACCOUNT_ID, RecordingMonitor, RetailMocks
from tests.support import config_with


def test_components_parent_their_children(graph_of):
    whole = graph_of("prod")
    graph = whole.without_dr()  # the primary region's slice; the DR slice is checked below
    platform = graph.one("retail:platform:RetailPlatform")
    assert platform.parent == graph.stack_urn
    primary = graph.one("retail:platform:RegionalPlatform", "primary")
    assert primary.parent == platform.urn
    assert {c.type for c in graph.children(primary.urn)} >= {
        "retail:foundation:Network", "retail:foundation:KeyRing", "retail:data:SqlDatabase", "retail:data:NoSqlTables",
        "retail:data:Cache"}
    network = graph.one("retail:foundation:Network", "network")
    vpc = graph.one("aws:ec2/vpc:Vpc")
    assert vpc.parent == network.urn
    assert [a.type for a in graph.ancestors(graph.one("aws:ec2/subnet:Subnet", "network-private-0").urn)] == [
        "aws:ec2/vpc:Vpc", "retail:foundation:Network", "retail:platform:RegionalPlatform",
        "retail:platform:RetailPlatform"]
    keyring = graph.one("retail:foundation:KeyRing", "keys")
    assert {r.type for r in graph.children(keyring.urn)} == {"aws:kms/key:Key", "aws:kms/alias:Alias",
                                                             "aws:kms/keyPolicy:KeyPolicy"}
    # The DR slice is a second RegionalPlatform under the same platform, built the same way.
    dr = whole.one("retail:platform:RegionalPlatform", "dr")
    assert dr.parent == platform.urn
    (dr_vpc,) = [v for v in whole.of_type("aws:ec2/vpc:Vpc") if v.urn not in {r.urn for r in graph}]
    assert [a.type for a in whole.ancestors(dr_vpc.urn)] == [
        "retail:foundation:Network", "retail:platform:RegionalPlatform", "retail:platform:RetailPlatform"]
    assert whole.ancestors(dr_vpc.urn)[1].urn == dr.urn
    assert dr_vpc.region == "eu-central-1" and dr_vpc.inputs["cidrBlock"] == "10.31.0.0/16"
    # Every AWS resource sits under a component: nothing hangs loose off the stack.
    assert all(whole.ancestors(r.urn) for r in whole if r.custom)


def test_dependencies_come_from_the_registration_requests(graph_of):
    graph = graph_of("prod").without_dr()
    flow_log = graph.one("aws:ec2/flowLog:FlowLog")
    vpc = graph.one("aws:ec2/vpc:Vpc")
    logs_key = graph.one("aws:kms/key:Key", "keys-logs")
    assert vpc.urn in flow_log.dependencies
    assert flow_log.property_dependencies["vpcId"] == (vpc.urn,)
    # Through the log group, the flow log waits on the logs key; nothing in the network
    # waits on the data key.
    assert graph.depends_on(flow_log.urn, logs_key.urn)
    data_key = graph.one("aws:kms/key:Key", "keys-data")
    assert not any(graph.depends_on(r.urn, data_key.urn) for r in graph.descendants(
        graph.one("retail:foundation:Network").urn))


def test_nat_gateways_wait_for_the_internet_gateway(graph_of):
    graph = graph_of("prod")
    gateways = {igw.region: igw for igw in graph.of_type("aws:ec2/internetGateway:InternetGateway")}
    assert set(gateways) == {"eu-west-1", "eu-central-1"}  # one per region: the DR slice has its own
    nats = graph.of_type("aws:ec2/natGateway:NatGateway")
    assert {nat.region for nat in nats} == set(gateways)
    for nat in nats:
        assert gateways[nat.region].urn in nat.dependencies


def test_mocked_outputs_are_realistic(graph_of):
    graph = graph_of("prod")
    arns = graph.outputs["kmsKeyArns"]
    for arn in arns.values():
        # prod has a DR region, so its keys are multi-Region: AWS ids them mrk-<32 hex>.
        assert re.fullmatch(rf"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/mrk-[0-9a-f]{{32}}", arn)
    assert re.fullmatch(r"vpc-[0-9a-f]{17}", graph.outputs["vpcId"])
    assert all(re.fullmatch(r"subnet-[0-9a-f]{17}", s) for s in graph.outputs["privateSubnetIds"])


def test_mocked_arns_carry_the_resources_own_region():
    mocks = RetailMocks(default_region="eu-west-1")
    _, here = mocks.new_resource(MockResourceArgs("aws:kms/key:Key", "k", {}))
    _, there = mocks.new_resource(MockResourceArgs("aws:kms/key:Key", "k", {"region": "eu-central-1"}))
    assert here["arn"].startswith(f"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/")
    assert there["arn"].startswith(f"arn:aws:kms:eu-central-1:{ACCOUNT_ID}:key/")
    _, role = mocks.new_resource(MockResourceArgs("aws:iam/role:Role", "r", {"name": "deployer"}))
    assert role["arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/deployer"


def test_an_unknown_invoke_raises():
    mocks = RetailMocks(default_region="eu-west-1")
    with pytest.raises(NotImplementedError, match="aws:rds/getEngineVersion:getEngineVersion"):
        mocks.call(MockCallArgs("aws:rds/getEngineVersion:getEngineVersion", {}, ""))


def test_synthesis_is_deterministic_and_stacks_do_not_leak_into_each_other():
    first = synthesize("dev").dumps()
    prod = synthesize("prod")
    again = synthesize("dev").dumps()
    assert first == again
    assert prod.stack == "prod" and all(":prod::" in r.urn for r in prod)
    assert "retail-prod" not in first


def test_warnings_are_recorded_in_a_stable_order(synth_with):
    # Each is logged when its resource's URN resolves, so they arrive in no fixed order; the
    # graph keeps them sorted, every one of them (duplicates included).
    warnings = synth_with("dev", kubernetes={"publicEndpoint": True, "publicAccessCidrs": ["203.0.113.0/24"]}).warnings
    assert len(warnings) >= 3
    assert list(warnings) == sorted(warnings)


def test_project_defaults_from_pulumi_yaml_are_applied():
    project = Project.load()
    assert project.defaults == {"retail:dataClassification": "confidential"}
    # The staging stack file does not set it: the tag comes from the project default.
    staging = synthesize("staging")
    assert staging.one("aws:ec2/vpc:Vpc").inputs["tags"]["data-classification"] == "confidential"
    # A stack file's value wins over the project default, in both of prod's regions.
    prod = synthesize("prod")
    vpcs = prod.of_type("aws:ec2/vpc:Vpc")
    assert len(vpcs) == 2
    assert all(vpc.inputs["tags"]["data-classification"] == "restricted" for vpc in vpcs)


def test_project_defaults_in_every_form_the_cli_applies(tmp_path):
    # `value` (the only form for another namespace, as `retail:` once the project is renamed),
    # a typed `default` of the project's own namespace, and plain shorthand values.
    (tmp_path / "Pulumi.yaml").write_text(
        "name: shop\nruntime: python\nconfig:\n"
        "  retail:dataClassification:\n    description: d\n    value: internal\n"
        "  retail:owner: team@example.com\n"
        "  size:\n    type: string\n    default: small\n"
        "  shop:replicas: 3\n"
        "  declaredOnly:\n    type: string\n")
    assert Project.load(tmp_path).defaults == {
        "retail:dataClassification": "internal", "retail:owner": "team@example.com",
        "shop:size": "small", "shop:replicas": "3"}


def test_an_invalid_config_raises_run_error_and_registers_nothing():
    monitor = RecordingMonitor(RetailMocks(default_region="eu-west-1"))
    config = config_with("prod", network={"cidr": "10.0.0.0/33"}, ownr="typo")
    with pytest.raises(pulumi.RunError) as caught:
        synthesize("prod", config=config, monitor=monitor)
    message = str(caught.value)
    assert "retail:network.cidr: '10.0.0.0/33' is not a valid IPv4 network" in message
    assert "retail:ownr: unknown key" in message
    assert monitor.registrations == []


def test_an_unknown_stack_names_the_known_ones():
    with pytest.raises(StackNotFoundError, match=r"Pulumi\.qa\.yaml \(stacks: dev, prod, staging\)"):
        synthesize("qa")


def test_an_encrypted_value_for_a_plain_key_is_named_not_reported_missing(tmp_path):
    (tmp_path / "stacks").mkdir()
    project = Project.load()
    (tmp_path / "stacks" / "Pulumi.s.yaml").write_text(
        "config:\n  retail:owner:\n    secure: AAABAMoz\n  aws:region: eu-west-1\n  retail:environment: dev\n"
        "  retail:costCenter: cc-1\n")
    local = Project(name=project.name, stack_config_dir=tmp_path / "stacks", main=project.main,
                    defaults=project.defaults)
    # Offline there is no secrets provider: the ciphertext goes to the program as written ...
    assert json.loads(local.stack_config("s")["retail:owner"]) == {"secure": "AAABAMoz"}
    # ... whose validation says what is wrong with it, not that the key is missing.
    with pytest.raises(pulumi.RunError) as caught:
        synthesize("s", project=local)
    assert "retail:owner: is stored encrypted" in str(caught.value)
    assert "required key is missing" not in str(caught.value)


def test_graph_json_round_trips_and_matches_its_schema(graph_of):
    graph = graph_of("prod")
    document = json.loads(graph.dumps())
    jsonschema.validate(document, load_schema())
    assert document["schemaVersion"] == SCHEMA_VERSION
    again = ResourceGraph.from_json(document)
    assert again.dumps() == graph.dumps()
    assert [f.property_dependencies for f in again.of_type("aws:ec2/flowLog:FlowLog")] == [
        f.property_dependencies for f in graph.of_type("aws:ec2/flowLog:FlowLog")]


def test_the_schema_rejects_what_it_does_not_describe(graph_of):
    document = json.loads(graph_of("dev").dumps())
    document["resources"][0]["surprise"] = True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, load_schema())


def test_a_graph_of_another_schema_version_is_refused(graph_of):
    document = json.loads(graph_of("dev").dumps())
    document["schemaVersion"] = SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="schemaVersion 2 is not supported"):
        ResourceGraph.from_json(document)


def test_resources_are_counted_by_type_and_region(graph_of):
    graph = graph_of("prod")
    assert graph.count_by_type()["aws:ec2/subnet:Subnet"] == 18  # 9 in each region
    assert graph.without_dr().count_by_type()["aws:ec2/subnet:Subnet"] == 9
    regions = graph.count_by_region()
    global_services = ("aws:iam/", "aws:cloudfront/", "aws:route53/")
    assert regions["global"] == len([r for r in graph if r.type.startswith(global_services)])
    # The CloudFront web ACL, its log group and the viewer certificate live in us-east-1.
    assert regions["us-east-1"] >= 3
    aws_resources = sum(1 for r in graph if r.custom and r.type.startswith("aws:"))
    assert regions["eu-central-1"] > 0  # the DR region
    assert regions["eu-west-1"] == aws_resources - regions["global"] - regions["us-east-1"] - regions["eu-central-1"]


def test_single_region_keys_get_uuid_ids(graph_of):
    uuid = r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}"
    for arn in graph_of("dev").outputs["kmsKeyArns"].values():
        assert re.fullmatch(rf"arn:aws:kms:eu-west-1:{ACCOUNT_ID}:key/{uuid}", arn)
