"""KMS in moto: each prod key created with its exact policy, read back; the key policies judged.

moto's CreateKey stores the policy without checking it, so each policy also goes through
moto's IAM grammar validator; moto's evaluator reads AWS principals but not Service ones nor
ArnLike, so the CloudWatch Logs statement is judged with the reference evaluator
(conftest.py).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.access_control import IAMPolicyStatement, PermissionResult

from blueprint import ResourceGraph
from blueprint.graph import Resource
from components.foundation.keys import KEY_DOMAINS, ROTATION_PERIOD_DAYS
from tests.iam.conftest import MotoAccount

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DOMAINS = tuple(domain.name for domain in KEY_DOMAINS)
OTHER_ACCOUNT = "999999999999"
CONTEXT_KEY = "kms:EncryptionContext:aws:logs:arn"


def key_of(graph: ResourceGraph, domain: str) -> Resource:
    # The primary region's key (the us-east-1 edge logs key and staging's DR keys are others).
    (key,) = [k for k in graph.of_type(KEY) if k.inputs["tags"]["key-domain"] == domain
              and k.inputs["region"] == graph.region]
    return key


def policy_of(graph: ResourceGraph, domain: str, side: str = "primary") -> dict[str, Any]:
    """A domain's key policy: the primary key's, or (``side="dr"``) its DR replica's."""
    key = key_of(graph, domain) if side == "primary" else replica_of(graph, domain)
    return json.loads(key.inputs["policy"])


SIDES = ("primary", "dr")


def create_key(aws, key: Resource) -> dict[str, Any]:
    """CreateKey and EnableKeyRotation as the provider sends them from the key's inputs."""
    kms, inputs = aws.client("kms"), key.inputs
    metadata = kms.create_key(Policy=inputs["policy"], Description=inputs["description"],
                              MultiRegion=inputs["multiRegion"],
                              Tags=[{"TagKey": k, "TagValue": v} for k, v in inputs["tags"].items()])["KeyMetadata"]
    if inputs["enableKeyRotation"]:
        kms.enable_key_rotation(KeyId=metadata["KeyId"], RotationPeriodInDays=int(inputs["rotationPeriodInDays"]))
    return metadata


# -- round trip -------------------------------------------------------------------------------

@pytest.mark.parametrize("domain", DOMAINS)
def test_key_policy_reads_back_exactly(aws, prod, domain):
    key = key_of(prod, domain)
    metadata = create_key(aws, key)
    read = aws.client("kms").get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"]
    assert read == key.inputs["policy"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_key_settings_read_back(aws, prod, domain):
    key = key_of(prod, domain)
    kms = aws.client("kms")
    metadata = kms.describe_key(KeyId=create_key(aws, key)["KeyId"])["KeyMetadata"]
    read = {"Description": metadata["Description"], "MultiRegion": metadata["MultiRegion"],
            "KeyManager": metadata["KeyManager"], "Enabled": metadata["Enabled"],
            "KeyRotationEnabled": kms.get_key_rotation_status(KeyId=metadata["KeyId"])["KeyRotationEnabled"],
            "Tags": {t["TagKey"]: t["TagValue"] for t in kms.list_resource_tags(KeyId=metadata["KeyId"])["Tags"]}}
    assert read == {"Description": key.inputs["description"], "MultiRegion": key.inputs["multiRegion"],
                    "KeyManager": "CUSTOMER", "Enabled": True, "KeyRotationEnabled": True, "Tags": key.inputs["tags"]}


def test_prod_keys_are_multi_region_primaries(aws, prod):
    # Prod has a DR region: replicas there must decrypt what the primary encrypted.
    assert prod.outputs["drRegion"]
    for domain in DOMAINS:
        metadata = create_key(aws, key_of(prod, domain))
        assert metadata["KeyId"].startswith("mrk-"), domain
        assert metadata["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY", domain


@pytest.mark.xfail(strict=True, reason=(
    "moto 5.2 accepts RotationPeriodInDays on EnableKeyRotation but neither stores nor returns it "
    "(GetKeyRotationStatus answers KeyRotationEnabled only)"))
@pytest.mark.parametrize("domain", DOMAINS)
def test_rotation_period_reads_back(aws, prod, domain):
    key_id = create_key(aws, key_of(prod, domain))["KeyId"]
    status = aws.client("kms").get_key_rotation_status(KeyId=key_id)
    assert status.get("RotationPeriodInDays") == ROTATION_PERIOD_DAYS


@pytest.mark.parametrize("domain", DOMAINS)
def test_alias_points_at_its_key(aws, prod, domain):
    key = key_of(prod, domain)
    key_id = create_key(aws, key)["KeyId"]
    (alias,) = [a for a in prod.without_dr().of_type(ALIAS) if a.inputs["targetKeyId"] == key.id]
    assert alias.region == prod.region
    kms = aws.client("kms")
    kms.create_alias(AliasName=alias.inputs["name"], TargetKeyId=key_id)
    assert kms.describe_key(KeyId=alias.inputs["name"])["KeyMetadata"]["KeyId"] == key_id


def replica_of(graph: ResourceGraph, domain: str) -> Resource:
    """The DR region's replica of a domain's key (prod: warm standby in ``drRegion``)."""
    (replica,) = [r for r in graph.of_type(REPLICA_KEY)
                  if r.inputs["primaryKeyArn"] == graph.outputs["kmsKeyArns"][domain]]
    return replica


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_dr_alias_points_at_the_replica_of_its_key(aws, prod, domain):
    # The same alias name in the DR region resolves to the replica: same key id, DR ARN.
    dr_region = prod.outputs["drRegion"]
    key = key_of(prod, domain)
    key_id = create_key(aws, key)["KeyId"]
    replica = replica_of(prod, domain)
    assert (replica.region, replica.inputs["tags"]["key-domain"]) == (dr_region, domain)
    aws.client("kms").replicate_key(KeyId=key_id, ReplicaRegion=dr_region,
                                    Description=replica.inputs["description"])
    (alias,) = [a for a in prod.of_type(ALIAS) if a.region == dr_region and a.inputs["targetKeyId"] == key.id]
    (primary_alias,) = [a for a in prod.without_dr().of_type(ALIAS) if a.inputs["targetKeyId"] == key.id]
    assert alias.inputs["name"] == primary_alias.inputs["name"]
    kms = MotoAccount(region=dr_region).client("kms")
    kms.create_alias(AliasName=alias.inputs["name"], TargetKeyId=key_id)
    metadata = kms.describe_key(KeyId=alias.inputs["name"])["KeyMetadata"]
    assert (metadata["KeyId"], metadata["Arn"]) == (key_id, f"arn:aws:kms:{dr_region}:123456789012:key/{key_id}")


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_key_policy_passes_iam_grammar(prod, grammar, domain, side):
    grammar(policy_of(prod, domain, side))


# -- who the policies let in -------------------------------------------------------------------

def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    (found,) = [s for s in policy["Statement"] if s.get("Sid") == sid]
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_account_root_holds_every_key_action(prod, domain):
    # moto's evaluator, on the root statement alone: it cannot be given a principal on a
    # policy that also has a Service statement (it raises).
    key = key_of(prod, domain)
    root = IAMPolicyStatement(statement(policy_of(prod, domain), "EnableIamPoliciesOfThisAccount"))
    arn = f"arn:aws:kms:{prod.region}:123456789012:key/{key.id}"
    actions = ("kms:Decrypt", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CreateGrant")
    assert {a: root.is_action_permitted(a, arn, "arn:aws:iam::123456789012:root") for a in actions} == \
        dict.fromkeys(actions, PERMITTED)
    assert {a: root.is_action_permitted(a, arn, f"arn:aws:iam::{OTHER_ACCOUNT}:root") for a in actions} == \
        dict.fromkeys(actions, DENIED)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_no_statement_lets_everyone_or_another_account_in(prod, ref_eval, domain, side):
    policy = policy_of(prod, domain, side)
    region = prod.region if side == "primary" else prod.outputs["drRegion"]
    for stmt in policy["Statement"]:
        principal = stmt["Principal"]
        if "*" in json.dumps(principal.get("AWS", [])):
            # Only behind conditions that pin the caller to this account and named roles.
            assert stmt["Condition"]["StringEquals"]["kms:CallerAccount"] == "123456789012", stmt.get("Sid")
            assert stmt["Condition"]["ArnLike"]["aws:PrincipalArn"], stmt.get("Sid")
        else:
            assert principal != "*", stmt.get("Sid")
    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:PutKeyPolicy"):
        for stranger in (("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:root"), ("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/x"),
                         ("Service", "s3.amazonaws.com")):
            assert ref_eval(policy, action, principal=stranger,
                            context={CONTEXT_KEY: f"arn:aws:logs:{region}:{OTHER_ACCOUNT}:log-group:x"}) \
                is NEUTRAL, (action, stranger)


@pytest.mark.parametrize("side", SIDES)
def test_only_the_logs_key_admits_a_service_and_only_the_data_key_the_launch_roles(prod, side):
    assert [s["Sid"] for s in policy_of(prod, "secrets", side)["Statement"]] == ["EnableIamPoliciesOfThisAccount"]
    # The primary's data key also admits the warehouse's zero-ETL integrations (Redshift
    # decrypts as itself); the DR region has no warehouse.
    zero_etl = ["AllowRedshiftZeroEtlIntegrationsOfThisAccount"] if side == "primary" else []
    assert [s["Sid"] for s in policy_of(prod, "data", side)["Statement"]] == [
        "EnableIamPoliciesOfThisAccount", "AllowInstanceLaunchRolesToEncryptVolumes", *zero_etl]


INTEGRATION = "arn:aws:rds:eu-west-1:123456789012:integration:6c8f1a2b-0d4e-4c55-9a77-0e9b2f3c4d5e"


@pytest.mark.parametrize(("principal", "context", "expected"), [
    pytest.param(("Service", "redshift.amazonaws.com"),
                 {"aws:SourceAccount": "123456789012", "aws:SourceArn": INTEGRATION}, PERMITTED,
                 id="our-aurora-integration"),
    pytest.param(("Service", "redshift.amazonaws.com"),
                 {"aws:SourceAccount": "123456789012",
                  "aws:SourceArn": "arn:aws:redshift:eu-west-1:123456789012:integration:1f2e3d4c"}, PERMITTED,
                 id="our-dynamodb-integration"),
    pytest.param(("Service", "redshift.amazonaws.com"),
                 {"aws:SourceAccount": OTHER_ACCOUNT, "aws:SourceArn": INTEGRATION.replace("123456789012",
                                                                                          OTHER_ACCOUNT)}, NEUTRAL,
                 id="another-accounts-integration"),
    pytest.param(("Service", "redshift.amazonaws.com"),
                 {"aws:SourceAccount": "123456789012",
                  "aws:SourceArn": "arn:aws:redshift:eu-west-1:123456789012:cluster:theirs"}, NEUTRAL,
                 id="not-an-integration"),
    pytest.param(("Service", "redshift.amazonaws.com"), {}, NEUTRAL, id="no-source"),
    pytest.param(("Service", "glue.amazonaws.com"),
                 {"aws:SourceAccount": "123456789012", "aws:SourceArn": INTEGRATION}, NEUTRAL, id="another-service"),
])
def test_redshift_decrypts_with_the_data_key_only_for_this_accounts_integrations(prod, ref_eval, principal, context,
                                                                                 expected):
    assert {action: ref_eval(policy_of(prod, "data"), action, principal=principal, context=context)
            for action in ("kms:Decrypt", "kms:CreateGrant")} == dict.fromkeys(("kms:Decrypt", "kms:CreateGrant"),
                                                                             expected)
    # Nothing else: it never encrypts new data or manages the key.
    assert ref_eval(policy_of(prod, "data"), "kms:ScheduleKeyDeletion", principal=principal,
                    context=context) is NEUTRAL


AUTOSCALING_ROLE = ("arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/"
                    "AWSServiceRoleForAutoScaling")


@pytest.mark.parametrize(("principal_arn", "account", "via", "expected"), [
    (AUTOSCALING_ROLE, "123456789012", "ec2", PERMITTED),
    (AUTOSCALING_ROLE, "123456789012", "s3", NEUTRAL),
    ("arn:aws:iam::123456789012:role/app", "123456789012", "ec2", NEUTRAL),
    (AUTOSCALING_ROLE.replace("123456789012", OTHER_ACCOUNT), OTHER_ACCOUNT, "ec2", NEUTRAL),
], ids=["launch-role-through-ec2", "launch-role-through-s3", "another-role", "another-account"])
def test_the_data_key_lets_only_the_launch_roles_encrypt_volumes_through_ec2(prod, ref_eval, principal_arn, account,
                                                                             via, expected):
    context = {"kms:CallerAccount": account, "kms:ViaService": f"{via}.{prod.region}.amazonaws.com",
               "aws:PrincipalArn": principal_arn}
    # The launch statement alone: the root statement delegates to IAM for everyone in the
    # account, which is a different question (answered by the role's IAM policies).
    policy = policy_of(prod, "data")
    launch = {**policy, "Statement": [s for s in policy["Statement"]
                                      if s["Sid"] == "AllowInstanceLaunchRolesToEncryptVolumes"]}
    assert ref_eval(launch, "kms:CreateGrant", principal=("AWS", principal_arn), context=context) is expected


def flow_log_group(prod: ResourceGraph, region: str | None = None) -> tuple[str, str]:
    """The flow-log group's ARN and the key it is encrypted with, in a region (the primary's
    unless told: the DR slice has its own, of the same name)."""
    (group,) = [g for g in prod.of_type(LOG_GROUP)
                if g.inputs["name"].endswith("vpc-flow-logs") and g.region == (region or prod.region)]
    return f"arn:aws:logs:{group.region}:123456789012:log-group:{group.inputs['name']}", group.inputs["kmsKeyId"]


def test_the_flow_log_group_uses_the_logs_key(prod):
    assert flow_log_group(prod)[1] == prod.outputs["kmsKeyArns"]["logs"]


def test_the_dr_flow_log_group_uses_the_replica_of_the_logs_key(prod):
    dr_region = prod.outputs["drRegion"]
    key_id = prod.outputs["kmsKeyArns"]["logs"].rsplit("/", 1)[1]
    assert replica_of(prod, "logs").region == dr_region
    assert flow_log_group(prod, dr_region)[1] == f"arn:aws:kms:{dr_region}:123456789012:key/{key_id}"


@pytest.mark.parametrize("region_of", ["primary", "dr"])
def test_cloudwatch_logs_may_use_the_logs_key_for_this_accounts_log_groups(prod, ref_eval, region_of):
    region = prod.region if region_of == "primary" else prod.outputs["drRegion"]
    group = f"arn:aws:logs:{region}:123456789012:log-group:/retail/prod/vpc-flow-logs"
    logs = ("Service", f"logs.{region}.amazonaws.com")
    uses = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:GenerateDataKey", "kms:DescribeKey")
    assert {a: ref_eval(policy_of(prod, "logs"), a, principal=logs, context={CONTEXT_KEY: group}) for a in uses} == \
        dict.fromkeys(uses, PERMITTED)


@pytest.mark.parametrize(("principal", "context"), [
    pytest.param(("Service", "logs.eu-west-1.amazonaws.com"),
                 {CONTEXT_KEY: f"arn:aws:logs:eu-west-1:{OTHER_ACCOUNT}:log-group:/theirs"},
                 id="another-accounts-group"),
    pytest.param(("Service", "logs.eu-west-1.amazonaws.com"),
                 {CONTEXT_KEY: "arn:aws:logs:us-east-1:123456789012:log-group:/ours-elsewhere"},
                 id="a-region-not-ours"),
    pytest.param(("Service", "logs.eu-west-1.amazonaws.com"), {}, id="no-encryption-context"),
    pytest.param(("Service", "logs.eu-west-1.amazonaws.com"),
                 {"kms:EncryptionContext:aws:s3:arn": "arn:aws:s3:::retail-prod-assets-123456789012"},
                 id="another-kind-of-context"),
    pytest.param(("Service", "logs.us-east-1.amazonaws.com"),
                 {CONTEXT_KEY: "arn:aws:logs:eu-west-1:123456789012:log-group:/retail/prod/vpc-flow-logs"},
                 id="logs-of-a-region-not-ours"),
    pytest.param(("Service", "s3.amazonaws.com"),
                 {CONTEXT_KEY: "arn:aws:logs:eu-west-1:123456789012:log-group:/retail/prod/vpc-flow-logs"},
                 id="another-service"),
])
def test_cloudwatch_logs_may_not_use_the_logs_key_otherwise(prod, ref_eval, principal, context):
    assert ref_eval(policy_of(prod, "logs"), "kms:Decrypt", principal=principal, context=context) is NEUTRAL


def test_cloudwatch_logs_cannot_administer_the_logs_key(prod, ref_eval, moto_eval):
    policy = policy_of(prod, "logs")
    group, _ = flow_log_group(prod)
    logs = ("Service", f"logs.{prod.region}.amazonaws.com")
    admin = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:CreateGrant")
    assert [a for a in admin if ref_eval(policy, a, principal=logs, context={CONTEXT_KEY: group}) is not NEUTRAL] == []
    # moto agrees on the actions (it reads the statement's Action list; it cannot read the rest).
    service = {"Statement": [statement(policy, "AllowCloudWatchLogsOfThisAccount")]}
    assert [a for a in admin if moto_eval(service, a) is PERMITTED] == []
    assert moto_eval(service, "kms:GenerateDataKey") is PERMITTED


# -- the data key's effective policy: the CDN may decrypt the assets ------------------------------

KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"


def data_key_policy(prod: ResourceGraph, side: str = "primary") -> Resource:
    """The KeyPolicy that owns the data key's policy (the key's own document plus CloudFront),
    or its DR replica's (CloudFront's origin group fails over to the DR assets bucket)."""
    key = key_of(prod, "data") if side == "primary" else replica_of(prod, "data")
    (holder,) = [p for p in prod.of_type(KEY_POLICY) if p.property_dependencies["keyId"] == (key.urn,)]
    return holder


def cdn_arn(prod: ResourceGraph) -> str:
    (distribution,) = prod.of_type("aws:cloudfront/distribution:Distribution")
    return f"arn:aws:cloudfront::123456789012:distribution/{distribution.id}"


def test_the_data_key_policy_loads_into_kms_and_reads_back(aws, prod, grammar):
    # As the provider does: CreateKey with the key's own policy, then PutKeyPolicy with the
    # KeyPolicy's document.
    document = data_key_policy(prod).inputs["policy"]
    grammar(document)
    kms = aws.client("kms")
    key_id = create_key(aws, key_of(prod, "data"))["KeyId"]
    kms.put_key_policy(KeyId=key_id, PolicyName="default", Policy=document)
    assert kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"] == document


@pytest.mark.parametrize("side", SIDES)
def test_only_the_cdn_distribution_may_decrypt_with_the_data_key(prod, ref_eval, side):
    policy = json.loads(data_key_policy(prod, side).inputs["policy"])
    cloudfront = ("Service", "cloudfront.amazonaws.com")
    ours = {"AWS:SourceArn": cdn_arn(prod)}
    assert ref_eval(policy, "kms:Decrypt", principal=cloudfront, context=ours) is PERMITTED
    for action in ("kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:PutKeyPolicy"):
        assert ref_eval(policy, action, principal=cloudfront, context=ours) is NEUTRAL, action
    another = {"AWS:SourceArn": "arn:aws:cloudfront::123456789012:distribution/EOTHER"}
    assert ref_eval(policy, "kms:Decrypt", principal=cloudfront, context=another) is NEUTRAL
    theirs = {"AWS:SourceArn": f"arn:aws:cloudfront::{OTHER_ACCOUNT}:distribution/{cdn_arn(prod).rsplit('/', 1)[1]}"}
    assert ref_eval(policy, "kms:Decrypt", principal=cloudfront, context=theirs) is NEUTRAL
