"""The IAM builders every grant, trust and key policy is made from, and the inline attachment."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blueprint import ResourceGraph
from blueprint.synth import run_program
from components.common.grants import (
    KMS_DECRYPT,
    KMS_ENCRYPT,
    POLICY_VERSION,
    attach,
    kms_via_service,
    policy_document,
    service_trust_policy,
    statement,
)

REGION = "eu-west-1"
ACCOUNT = "111122223333"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders"

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
OWNER = "test:grants:Owner"


# -- statement -----------------------------------------------------------------------------

def test_statement_sorts_and_deduplicates_its_actions():
    result = statement("Write", ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:PutItem"], [TABLE_ARN])
    assert result["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]


def test_statement_lists_its_resources_in_the_order_given():
    resources = (TABLE_ARN, f"{TABLE_ARN}/index/*")
    result = statement("Read", ["dynamodb:Query"], resources)
    assert result["Resource"] == [TABLE_ARN, f"{TABLE_ARN}/index/*"]
    assert isinstance(result["Resource"], list)  # A tuple would not survive a JSON round trip as itself.


def test_statement_allows_by_default_and_denies_when_asked():
    assert statement("Read", ["s3:GetObject"], ["*"])["Effect"] == "Allow"
    assert statement("Refuse", ["s3:*"], ["*"], effect="Deny")["Effect"] == "Deny"


def test_statement_without_a_condition_has_no_condition_key():
    assert "Condition" not in statement("Read", ["s3:GetObject"], ["*"])
    # An empty condition means none: IAM rejects "Condition": {}.
    assert "Condition" not in statement("Read", ["s3:GetObject"], ["*"], condition={})


def test_statement_carries_the_condition_it_is_given():
    condition = {"Bool": {"aws:SecureTransport": "false"}}
    result = statement("DenyPlainHttp", ["s3:*"], ["*"], effect="Deny", condition=condition)
    assert result == {"Sid": "DenyPlainHttp", "Effect": "Deny", "Action": ["s3:*"], "Resource": ["*"],
                      "Condition": condition}


@given(st.lists(st.one_of(st.sampled_from(KMS_ENCRYPT), st.text(max_size=40)), min_size=1))
def test_statement_actions_are_always_sorted_unique_and_the_same_set(actions):
    result = statement("Any", actions, ["*"])["Action"]
    assert result == sorted(result)
    assert len(result) == len(set(result))
    assert set(result) == set(actions)


# -- kms_via_service -----------------------------------------------------------------------

def test_kms_via_service_allows_the_key_only_through_the_service_in_the_region():
    result = kms_via_service("DecryptThroughDynamoDb", KEY_ARN, KMS_DECRYPT, "dynamodb", REGION)
    assert result["Resource"] == [KEY_ARN]
    assert result["Condition"] == {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}}


def test_kms_via_service_names_the_region_it_is_given():
    result = kms_via_service("UseDataKeyForVolumes", KEY_ARN, KMS_DECRYPT, "ec2", "us-gov-west-1")
    assert result["Condition"]["StringEquals"]["kms:ViaService"] == "ec2.us-gov-west-1.amazonaws.com"


def test_kms_via_service_grants_exactly_the_key_operations_asked_for():
    result = kms_via_service("EncryptThroughS3", KEY_ARN, KMS_ENCRYPT, "s3", REGION)
    assert result["Sid"] == "EncryptThroughS3"
    assert result["Effect"] == "Allow"
    assert result["Action"] == sorted(KMS_ENCRYPT)


# -- service_trust_policy ------------------------------------------------------------------

def test_trust_policy_lets_only_the_service_assume_the_role():
    policy = service_trust_policy("monitoring.rds.amazonaws.com", ACCOUNT)
    assert policy["Version"] == POLICY_VERSION == "2012-10-17"
    (trust,) = policy["Statement"]
    assert trust["Effect"] == "Allow"
    assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}


def test_trust_policy_with_a_single_action_names_it_as_a_string():
    (trust,) = service_trust_policy("vpc-flow-logs.amazonaws.com", ACCOUNT)["Statement"]
    assert trust["Action"] == "sts:AssumeRole"


def test_trust_policy_with_several_actions_lists_them():
    (trust,) = service_trust_policy("eks.amazonaws.com", ACCOUNT, ("sts:AssumeRole", "sts:TagSession"))["Statement"]
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]


def test_trust_policy_for_an_account_holds_the_service_to_that_account():
    (trust,) = service_trust_policy("vpc-flow-logs.amazonaws.com", ACCOUNT)["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_trust_policy_without_an_account_has_no_condition():
    (trust,) = service_trust_policy("ec2.amazonaws.com", None)["Statement"]
    assert "Condition" not in trust


def test_trust_policy_has_a_sid_only_when_given_one():
    (unnamed,) = service_trust_policy("ec2.amazonaws.com", None)["Statement"]
    assert "Sid" not in unnamed
    (named,) = service_trust_policy("ec2.amazonaws.com", None, sid="Ec2Nodes")["Statement"]
    assert named["Sid"] == "Ec2Nodes"


def test_trust_policy_merges_string_equals_into_the_source_account_block():
    tags = {"aws:RequestTag/kubernetes-namespace": "checkout",
            "aws:RequestTag/kubernetes-service-account": "checkout"}
    (trust,) = service_trust_policy("pods.eks.amazonaws.com", ACCOUNT, ("sts:AssumeRole", "sts:TagSession"),
                                    sid="EksPodIdentity", string_equals=tags)["Statement"]
    assert trust["Sid"] == "EksPodIdentity"
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT, **tags}}


def test_trust_policy_string_equals_alone_is_still_a_condition():
    (trust,) = service_trust_policy("pods.eks.amazonaws.com", None,
                                    string_equals={"aws:RequestTag/eks-cluster-name": "retail-prod-eks"})["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:RequestTag/eks-cluster-name": "retail-prod-eks"}}


# -- policy_document -----------------------------------------------------------------------

def test_policy_document_keeps_its_statements_in_order():
    read = statement("Read", ["s3:GetObject"], ["arn:aws:s3:::b/*"])
    write = statement("Write", ["s3:PutObject"], ["arn:aws:s3:::b/*"])
    assert policy_document(read, write) == {"Version": POLICY_VERSION, "Statement": [read, write]}


def test_policy_document_refuses_two_statements_with_the_same_sid():
    first = statement("Read", ["s3:GetObject"], ["arn:aws:s3:::a/*"])
    second = statement("Read", ["s3:GetObject"], ["arn:aws:s3:::b/*"])
    with pytest.raises(ValueError, match=r"statement ids must be unique within a policy: \['Read', 'Read'\]"):
        policy_document(first, second)


# -- attach (under mocks) ------------------------------------------------------------------

def _attach(document_of) -> ResourceGraph:
    """An owner component, a role and a bucket; ``document_of(bucket)`` attached to the role."""

    def program() -> None:
        owner = pulumi.ComponentResource(OWNER, "owner")
        role = aws.iam.Role("app", assume_role_policy=json.dumps(service_trust_policy("ec2.amazonaws.com", None)),
                            opts=pulumi.ResourceOptions(parent=owner))
        bucket = aws.s3.Bucket("data", opts=pulumi.ResourceOptions(parent=owner))
        attach("owner-data-read-app", role, document_of(bucket), owner)

    return run_program(program, project="retail", stack="dev", config={"aws:region": REGION})


def _read_document(bucket_arn: str) -> dict[str, Any]:
    return policy_document(statement("ReadObjects", ["s3:GetObject"], [f"{bucket_arn}/*"]))


STATIC_DOCUMENT = _read_document("arn:aws:s3:::retail-dev-data")


def test_attach_makes_an_inline_role_policy_named_after_the_grant_under_its_parent():
    graph = _attach(lambda _bucket: STATIC_DOCUMENT)
    policy = graph.one(ROLE_POLICY)
    assert policy.name == "owner-data-read-app"
    assert policy.parent == graph.one(OWNER).urn
    # The parent given, not the role: the grant belongs to the component that made it.
    assert policy.parent != graph.one(ROLE).urn


def test_attach_puts_the_policy_on_the_roles_id():
    graph = _attach(lambda _bucket: STATIC_DOCUMENT)
    role, policy = graph.one(ROLE), graph.one(ROLE_POLICY)
    assert policy.inputs["role"] == role.id
    assert policy.property_dependencies["role"] == (role.urn,)


def test_attach_writes_the_document_as_json_with_sorted_keys():
    policy = _attach(lambda _bucket: STATIC_DOCUMENT).one(ROLE_POLICY)
    assert policy.inputs["policy"] == json.dumps(STATIC_DOCUMENT, sort_keys=True)
    assert json.loads(policy.inputs["policy"]) == STATIC_DOCUMENT


def test_attach_takes_a_document_that_is_still_an_output_and_waits_for_what_it_names():
    graph = _attach(lambda bucket: bucket.arn.apply(_read_document))
    bucket, policy = graph.one(BUCKET), graph.one(ROLE_POLICY)
    arn = f"arn:aws:s3:::{bucket.id}"
    assert policy.inputs["policy"] == json.dumps(_read_document(arn), sort_keys=True)
    assert policy.property_dependencies["policy"] == (bucket.urn,)


@pytest.mark.parametrize("build", [
    lambda: statement("S", "s3:GetObject", ["arn:aws:s3:::b/*"]),
    lambda: statement("S", ["s3:GetObject"], "arn:aws:s3:::b/*"),
    lambda: service_trust_policy("ec2.amazonaws.com", None, "sts:AssumeRole"),
])
def test_a_single_string_where_a_list_of_names_is_due_is_refused(build):
    with pytest.raises(TypeError, match="single string"):
        build()


@pytest.mark.parametrize("build", [
    lambda: statement("S", [], ["*"]),
    lambda: statement("S", ["s3:GetObject"], []),
    lambda: service_trust_policy("ec2.amazonaws.com", None, ()),
])
def test_a_statement_naming_no_action_or_resource_is_refused(build):
    with pytest.raises(ValueError, match="is empty"):
        build()
