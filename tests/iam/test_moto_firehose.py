"""A Firehose delivery role and a producer's put grant in moto: IAM accepts them; S3 enforces
the delivery role's prefixes end to end; moto's evaluator (conftest.py) judges Kinesis, Glue
and KMS, which moto authorises against "*"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import enable_iam_authentication  # type: ignore[attr-defined]
from moto.iam.access_control import PermissionResult

from blueprint.mocks import ACCOUNT_ID
from components.analytics.lake import firehose_delivery_policy, glue_arns
from components.analytics.streams import stream_put_policy, stream_read_policy
from tests.iam.conftest import MotoAccount, moto_evaluate, reference_evaluate

PERMITTED = PermissionResult.PERMITTED
REGION = "eu-west-1"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
BUCKET = "retail-prod-data-lake"
ORDERS = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/retail-prod-orders"
CLICKS = f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/retail-prod-clickstream"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:/aws/kinesisfirehose/retail-prod-lake"
GLUE = glue_arns("aws", REGION, ACCOUNT_ID, "retail_prod_lake", "orders")
POLICY = firehose_delivery_policy(stream_arn=ORDERS, bucket_arn=f"arn:aws:s3:::{BUCKET}", key_arn=KEY,
                                  log_group_arn=LOG_GROUP, glue_resources=GLUE, raw="raw/orders/",
                                  errors="errors/orders/", region=REGION)


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    with mock_aws():
        yield MotoAccount(region=REGION)


@pytest.mark.parametrize("policy", [POLICY, stream_put_policy(ORDERS, KEY, REGION),
                                    stream_read_policy(ORDERS, KEY, REGION)])
def test_iam_accepts_the_documents(account, policy):
    account.accepts_role_policy(policy)


def test_delivery_role_writes_only_under_its_own_prefixes(account):
    account.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    session = account.role_session("orders-delivery", POLICY)
    with enable_iam_authentication():
        s3 = session.client("s3")
        s3.put_object(Bucket=BUCKET, Key="raw/orders/year=2026/month=11/day=25/part.parquet", Body=b"x")
        s3.put_object(Bucket=BUCKET, Key="errors/orders/format-conversion-failed/x", Body=b"x")
        for key in ("raw/clickstream/year=2026/x", "athena-results/x", "raw/orders-archive/x", "x"):
            with pytest.raises(ClientError, match="AccessDenied"):
                s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.get_object(Bucket=BUCKET, Key="raw/orders/year=2026/month=11/day=25/part.parquet")
        with pytest.raises(ClientError, match="AccessDenied"):
            s3.delete_object(Bucket=BUCKET, Key="raw/orders/year=2026/month=11/day=25/part.parquet")


def test_delivery_role_reads_only_its_stream_and_table():
    assert moto_evaluate(POLICY, "kinesis:GetRecords", ORDERS) == PERMITTED
    assert moto_evaluate(POLICY, "kinesis:GetRecords", CLICKS) != PERMITTED
    assert moto_evaluate(POLICY, "kinesis:PutRecord", ORDERS) != PERMITTED
    assert moto_evaluate(POLICY, "kinesis:DeleteStream", ORDERS) != PERMITTED
    assert moto_evaluate(POLICY, "glue:GetTable", GLUE[2]) == PERMITTED
    other_table = glue_arns("aws", REGION, ACCOUNT_ID, "retail_prod_lake", "clickstream")[2]
    assert moto_evaluate(POLICY, "glue:GetTable", other_table) != PERMITTED
    assert moto_evaluate(POLICY, "glue:UpdateTable", GLUE[2]) != PERMITTED


@pytest.mark.parametrize("service, allowed", [("kinesis", True), ("s3", True), ("dynamodb", False)])
def test_delivery_role_uses_the_key_only_through_kinesis_and_s3(service, allowed):
    # Two ViaService statements: moto's evaluator reads the one whose condition fails as a
    # deny (conftest.py), so this is the reference evaluator's verdict.
    context = {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}
    assert (reference_evaluate(POLICY, "kms:Decrypt", KEY, context=context) == PERMITTED) is allowed


def test_a_producer_puts_only_on_its_stream_and_cannot_read():
    policy = stream_put_policy(ORDERS, KEY, REGION)
    assert moto_evaluate(policy, "kinesis:PutRecords", ORDERS) == PERMITTED
    assert moto_evaluate(policy, "kinesis:PutRecords", CLICKS) != PERMITTED
    assert moto_evaluate(policy, "kinesis:GetRecords", ORDERS) != PERMITTED
    via = {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com"}
    assert moto_evaluate(policy, "kms:GenerateDataKey", KEY, context=via) == PERMITTED
    assert moto_evaluate(policy, "kms:Decrypt", KEY, context=via) != PERMITTED


def test_a_consumer_reads_only_its_stream_and_cannot_put():
    policy = stream_read_policy(ORDERS, KEY, REGION)
    assert moto_evaluate(policy, "kinesis:GetRecords", ORDERS) == PERMITTED
    assert moto_evaluate(policy, "kinesis:GetRecords", CLICKS) != PERMITTED
    assert moto_evaluate(policy, "kinesis:PutRecord", ORDERS) != PERMITTED
