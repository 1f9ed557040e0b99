"""The alarm topic and its key in moto: KMS and SNS take and return the documents as the
program sends them; the documents are judged with the reference evaluator (moto's reads no
Service principals nor ArnLike, and moto's SNS does not enforce topic policies on Publish).

What it shows: CloudWatch, for an alarm of this account and region, may publish to the topic
and use its key; another account's alarm, an alarm of another region, and a plain principal
may not publish; no request without TLS gets through; the key admits CloudWatch and no other
service, and the stack's other keys do not admit CloudWatch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.iam.access_control import PermissionResult

from blueprint.mocks import ACCOUNT_ID
from components.foundation.keys import ALARMS_DOMAIN, KEY_DOMAINS, key_policy
from components.observability.alarms import alarm_topic_policy
from tests.iam.conftest import MotoAccount, reference_evaluate, validate_policy_grammar

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
REGION = "eu-west-1"
OTHER_ACCOUNT = "999999999999"
CLOUDWATCH = ("Service", "cloudwatch.amazonaws.com")
KEY_POLICY = key_policy(ALARMS_DOMAIN, partition="aws", account_id=ACCOUNT_ID, regions=[REGION])
TLS = {"aws:SecureTransport": "true"}


def alarm_context(account: str = ACCOUNT_ID, region: str = REGION) -> dict[str, str]:
    return {"aws:SourceAccount": account, "aws:SourceArn": f"arn:aws:cloudwatch:{region}:{account}:alarm:x",
            **TLS}


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    with mock_aws():
        yield MotoAccount(region=REGION)


@pytest.fixture
def topic(account: MotoAccount) -> tuple[str, dict]:
    """The alarms key and the topic encrypted with it, each with its policy as the program sends it."""
    kms, sns = account.client("kms"), account.client("sns")
    key = kms.create_key(Policy=json.dumps(KEY_POLICY), Description="alarms")["KeyMetadata"]
    arn = sns.create_topic(Name="retail-prod-alarms", Attributes={"KmsMasterKeyId": key["Arn"]})["TopicArn"]
    policy = alarm_topic_policy(arn, partition="aws", region=REGION, account_id=ACCOUNT_ID)
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    return arn, policy


def test_kms_and_sns_store_the_documents_as_sent(account, topic):
    arn, policy = topic
    attributes = account.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"]
    assert json.loads(attributes["Policy"]) == policy
    key_id = attributes["KmsMasterKeyId"]
    assert json.loads(account.client("kms").get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) \
        == KEY_POLICY
    validate_policy_grammar(policy)
    validate_policy_grammar(KEY_POLICY)


def test_an_alarm_of_this_account_and_region_may_publish(topic):
    arn, policy = topic
    assert reference_evaluate(policy, "sns:Publish", arn, principal=CLOUDWATCH, context=alarm_context()) == PERMITTED


@pytest.mark.parametrize("context", [alarm_context(account=OTHER_ACCOUNT), alarm_context(region="us-west-2"),
                                     {"aws:SourceAccount": ACCOUNT_ID, **TLS}, TLS],
                         ids=["other-account", "other-region", "no-source-arn", "no-source"])
def test_no_other_alarm_may_publish(topic, context):
    arn, policy = topic
    assert reference_evaluate(policy, "sns:Publish", arn, principal=CLOUDWATCH, context=context) == NEUTRAL


@pytest.mark.parametrize("principal", [("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/attacker"),
                                       ("AWS", f"arn:aws:iam::{ACCOUNT_ID}:role/storefront"),
                                       ("Service", "events.amazonaws.com")])
def test_a_plain_principal_or_another_service_is_not_admitted(topic, principal):
    arn, policy = topic
    assert reference_evaluate(policy, "sns:Publish", arn, principal=principal, context=alarm_context()) == NEUTRAL


@pytest.mark.parametrize("action", ["sns:Publish", "sns:Subscribe", "sns:SetTopicAttributes"])
def test_nothing_without_tls(topic, action):
    arn, policy = topic
    context = {**alarm_context(), "aws:SecureTransport": "false"}
    assert reference_evaluate(policy, action, arn, principal=CLOUDWATCH, context=context) == DENIED


@pytest.mark.parametrize("action", ["kms:GenerateDataKey", "kms:Decrypt"])
def test_cloudwatch_may_use_the_alarms_key_to_publish(action):
    assert reference_evaluate(KEY_POLICY, action, "*", principal=CLOUDWATCH) == PERMITTED


@pytest.mark.parametrize("action", ["kms:Encrypt", "kms:ReEncryptFrom", "kms:CreateGrant", "kms:PutKeyPolicy"])
def test_cloudwatch_may_do_nothing_else_with_it(action):
    assert reference_evaluate(KEY_POLICY, action, "*", principal=CLOUDWATCH) == NEUTRAL


@pytest.mark.parametrize("service", ["sns.amazonaws.com", "events.amazonaws.com", "logs.eu-west-1.amazonaws.com"])
def test_no_other_service_may_use_the_alarms_key(service):
    assert reference_evaluate(KEY_POLICY, "kms:Decrypt", "*", principal=("Service", service)) == NEUTRAL


@pytest.mark.parametrize("domain", KEY_DOMAINS, ids=lambda d: d.name)
def test_the_stacks_other_keys_do_not_admit_cloudwatch(domain):
    # The statement lives on the alarms key only: CloudWatch cannot decrypt data, logs or secrets.
    policy = key_policy(domain, partition="aws", account_id=ACCOUNT_ID, regions=[REGION])
    context = {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:x"}
    assert reference_evaluate(policy, "kms:Decrypt", "*", principal=CLOUDWATCH, context=context) == NEUTRAL
