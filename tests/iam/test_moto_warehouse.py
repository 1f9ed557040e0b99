"""The warehouse's IAM documents in moto and the reference evaluator: the analyst grant reads
the curated lake and nothing raw (end to end in moto's S3), gets credentials for its own
workgroup only; the Spectrum role reads the lake's catalog, never writes it; the zero-ETL
resource policies admit exactly their sources. See conftest.py for what each evaluator shows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import enable_iam_authentication
from moto.iam.access_control import PermissionResult

from blueprint.iam_eval import Principal
from blueprint.mocks import ACCOUNT_ID
from components.analytics.warehouse import (
    analyst_policy,
    dynamodb_export_policy,
    namespace_integration_policy,
    spectrum_policy,
)
from tests.iam.conftest import MotoAccount

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL

REGION = "eu-west-1"
BUCKET = f"retail-prod-data-lake-{ACCOUNT_ID}"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/11111111-1111-4111-8111-111111111111"
WORKGROUP = f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT_ID}:workgroup/0a1b2c3d-0000-4000-8000-000000000001"
OTHER_WORKGROUP = f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT_ID}:workgroup/0a1b2c3d-0000-4000-8000-000000000002"
NAMESPACE = f"arn:aws:redshift-serverless:{REGION}:{ACCOUNT_ID}:namespace/0a1b2c3d-0000-4000-8000-000000000003"
AURORA = f"arn:aws:rds:{REGION}:{ACCOUNT_ID}:cluster:retail-prod-orders"
TABLE = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-inventory"
DATABASE = "retail_prod_lake"
GLUE = f"arn:aws:glue:{REGION}:{ACCOUNT_ID}"

ANALYST = analyst_policy(WORKGROUP, BUCKET_ARN, KEY, REGION)
SPECTRUM = spectrum_policy(BUCKET_ARN, KEY, partition="aws", region=REGION, account_id=ACCOUNT_ID, database=DATABASE)


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    with mock_aws():
        yield MotoAccount(region=REGION)


@pytest.mark.parametrize("document", [ANALYST, SPECTRUM], ids=["analyst", "spectrum"])
def test_iam_accepts_the_documents(account, document):
    account.accepts_role_policy(document)


def test_analyst_reads_curated_and_nothing_raw_in_s3(account):
    s3 = account.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for key in ("curated/orders/part-0.parquet", "raw/orders/part-0.json"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=b"x")
    analyst = account.role_session("analyst", ANALYST).client("s3")

    def allowed(call) -> bool:
        try:
            with enable_iam_authentication():
                call()
        except ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDenied"
            return False
        return True

    assert allowed(lambda: analyst.get_object(Bucket=BUCKET, Key="curated/orders/part-0.parquet"))
    assert not allowed(lambda: analyst.get_object(Bucket=BUCKET, Key="raw/orders/part-0.json"))
    assert not allowed(lambda: analyst.put_object(Bucket=BUCKET, Key="curated/new.parquet", Body=b"y"))
    assert not allowed(lambda: analyst.delete_object(Bucket=BUCKET, Key="curated/orders/part-0.parquet"))


@pytest.mark.parametrize("document", [ANALYST, SPECTRUM], ids=["analyst", "spectrum"])
def test_listing_is_limited_to_the_curated_prefix(ref_eval, document):
    assert ref_eval(document, "s3:ListBucket", BUCKET_ARN, context={"s3:prefix": "curated/orders/"}) is PERMITTED
    assert ref_eval(document, "s3:ListBucket", BUCKET_ARN, context={"s3:prefix": "raw/"}) is NEUTRAL
    assert ref_eval(document, "s3:GetObject", f"{BUCKET_ARN}/raw/orders/part-0.json") is NEUTRAL
    assert ref_eval(document, "s3:GetObject", f"{BUCKET_ARN}/curated/orders/part-0.parquet") is PERMITTED


@pytest.mark.parametrize("document", [ANALYST, SPECTRUM], ids=["analyst", "spectrum"])
def test_the_data_key_decrypts_only_through_s3(moto_eval, document):
    assert moto_eval(document, "kms:Decrypt", KEY,
                     context={"kms:ViaService": f"s3.{REGION}.amazonaws.com"}) is PERMITTED
    assert moto_eval(document, "kms:Decrypt", KEY,
                     context={"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}) is not PERMITTED
    assert moto_eval(document, "kms:Encrypt", KEY,
                     context={"kms:ViaService": f"s3.{REGION}.amazonaws.com"}) is not PERMITTED


def test_analyst_gets_credentials_for_its_workgroup_only(moto_eval):
    assert moto_eval(ANALYST, "redshift-serverless:GetCredentials", WORKGROUP) is PERMITTED
    assert moto_eval(ANALYST, "redshift-serverless:GetCredentials", OTHER_WORKGROUP) is not PERMITTED
    for action in ("redshift-serverless:DeleteWorkgroup", "redshift-serverless:UpdateNamespace",
                   "redshift-serverless:GetNamespace", "glue:GetTable"):
        assert moto_eval(ANALYST, action, WORKGROUP) is not PERMITTED, action


def test_spectrum_reads_the_lake_catalog_and_never_writes_it(moto_eval):
    for resource in (f"{GLUE}:catalog", f"{GLUE}:database/{DATABASE}", f"{GLUE}:table/{DATABASE}/orders"):
        assert moto_eval(SPECTRUM, "glue:GetTable", resource) is PERMITTED, resource
    assert moto_eval(SPECTRUM, "glue:GetTable", f"{GLUE}:table/other_db/orders") is not PERMITTED
    for action in ("glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable", "s3:PutObject"):
        assert moto_eval(SPECTRUM, action, f"{GLUE}:table/{DATABASE}/orders") is not PERMITTED, action


def test_namespace_policy_admits_exactly_the_sources(ref_eval, grammar):
    document = namespace_integration_policy(NAMESPACE, ACCOUNT_ID, "aws", [AURORA, TABLE])
    grammar(document)
    redshift: Principal = ("Service", "redshift.amazonaws.com")
    for source in (AURORA, TABLE):
        assert ref_eval(document, "redshift:AuthorizeInboundIntegration", NAMESPACE,
                        context={"aws:SourceArn": source}, principal=redshift) is PERMITTED
    stranger = f"arn:aws:rds:{REGION}:999988887777:cluster:theirs"
    assert ref_eval(document, "redshift:AuthorizeInboundIntegration", NAMESPACE,
                    context={"aws:SourceArn": stranger}, principal=redshift) is NEUTRAL
    root = ("AWS", f"arn:aws:iam::{ACCOUNT_ID}:root")
    assert ref_eval(document, "redshift:CreateInboundIntegration", NAMESPACE, principal=root) is PERMITTED
    other = ("AWS", "arn:aws:iam::999988887777:root")
    assert ref_eval(document, "redshift:CreateInboundIntegration", NAMESPACE, principal=other) is NEUTRAL


def test_table_policy_lets_only_this_accounts_integrations_export(ref_eval, grammar):
    document = dynamodb_export_policy(TABLE, ACCOUNT_ID, "aws", REGION)
    grammar(document)
    redshift: Principal = ("Service", "redshift.amazonaws.com")
    ours = {"aws:SourceAccount": ACCOUNT_ID,
            "aws:SourceArn": f"arn:aws:redshift:{REGION}:{ACCOUNT_ID}:integration:0a1b2c3d"}
    assert ref_eval(document, "dynamodb:ExportTableToPointInTime", TABLE, context=ours,
                    principal=redshift) is PERMITTED
    theirs = {"aws:SourceAccount": "999988887777",
              "aws:SourceArn": f"arn:aws:redshift:{REGION}:999988887777:integration:0a1b2c3d"}
    assert ref_eval(document, "dynamodb:ExportTableToPointInTime", TABLE, context=theirs,
                    principal=redshift) is NEUTRAL
    assert ref_eval(document, "dynamodb:GetItem", TABLE, context=ours, principal=redshift) is NEUTRAL
