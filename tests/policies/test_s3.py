"""S3.1 account public access block, S3.2/S3.3 not public, and the per-bucket companions:
S3.5 TLS-only policy, S3.8 public access block, S3.9 logging, S3.12 ACLs disabled,
S3.13 lifecycle, S3.14 versioning, S3.17 KMS encryption (with its accepted exception)."""

from __future__ import annotations

import json

import pytest
from pulumi_policy import StackValidationPolicy
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies import s3
from policies.offline import evaluate
from policies.registry import POLICIES

BUCKET = "aws:s3/bucket:Bucket"
ACCOUNT_PAB = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
ACL = "aws:s3/bucketAcl:BucketAcl"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_ARN = "arn:aws:s3:::retail-dev-data"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
FLAGS = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
         "restrictPublicBuckets": True}
TLS_DENY = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [BUCKET_ARN, f"{BUCKET_ARN}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def sse(algorithm="aws:kms", key=KEY_ARN) -> dict:
    default = {"sseAlgorithm": algorithm}
    if key is not None:
        default["kmsMasterKeyId"] = key
    return {"rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}]}


#: A compliant companion of each kind, by short name: (type, props).
COMPANIONS = {
    "policy": (POLICY, {"policy": document(TLS_DENY)}),
    "pab": (PAB, FLAGS),
    "logging": (LOGGING, {"targetBucket": "retail-dev-logs", "targetPrefix": "data/"}),
    "ownership": (OWNERSHIP, {"rule": {"objectOwnership": "BucketOwnerEnforced"}}),
    "lifecycle": (LIFECYCLE, {"rules": [{"id": "noncurrent", "status": "Enabled",
                                         "noncurrentVersionExpiration": {"noncurrentDays": 90}}]}),
    "versioning": (VERSIONING, {"versioningConfiguration": {"status": "Enabled"}}),
    "encryption": (SSE, sse()),
}


@pytest.fixture
def bucket_set(snap, tags):
    """``bucket_set(name, without=(...), tags=..., <companion>=props)``: a bucket and its
    compliant companions, each linked through property_dependencies["bucket"]; returns
    ``(bucket, {short name: companion})``."""

    def make(name="data", *, without=(), extra_tags=None, **props_of):
        bucket = snap(BUCKET, name, {"bucket": f"retail-dev-{name}",
                                      "tags": {**tags(), **(extra_tags or {})}})
        companions = {}
        for short, (type_, props) in COMPANIONS.items():
            if short in without:
                continue
            companions[short] = snap(type_, f"{name}-{short}",
                                     {"bucket": f"retail-dev-{name}", **props_of.get(short, props)},
                                     property_dependencies={"bucket": (bucket.urn,)})
        return bucket, companions

    return make


def resources(bucket, companions):
    return [bucket, *companions.values()]


def test_compliant_buckets_pass_the_whole_pack(bucket_set, snap):
    # The logs bucket under its accepted exception, and a KMS bucket: no policy of the pack
    # (tags, exceptions, S3) objects.
    logs, logs_companions = bucket_set("logs", extra_tags={"control-exceptions": "S3.17"},
                                       encryption=sse("AES256", key=None))
    data, data_companions = bucket_set("data")
    account = snap(ACCOUNT_PAB, "account", FLAGS)
    report = evaluate([account, *resources(logs, logs_companions), *resources(data, data_companions)],
                      POLICIES)
    assert report.violations == []


@pytest.mark.parametrize("policy", [p.name for p in s3.POLICIES
                                    if isinstance(p, StackValidationPolicy)])
def test_stack_without_buckets_passes(snap, run_policy, policy):
    assert run_policy(policy, [snap("aws:ec2/vpc:Vpc", "main")]).violations == []


# --- s3-account-public-access-block ---------------------------------------------------------


def test_account_block_with_all_four_passes(snap, run_policy):
    assert run_policy("s3-account-public-access-block", [snap(ACCOUNT_PAB, "account", FLAGS)]).violations == []


def test_account_block_with_a_flag_off_or_missing_fails(snap, run_policy):
    props = {**FLAGS, "blockPublicPolicy": False}
    del props["restrictPublicBuckets"]
    account = snap(ACCOUNT_PAB, "account", props)
    [violation] = run_policy("s3-account-public-access-block", [account]).violations
    assert violation.urn == account.urn
    assert "leaves block_public_policy, restrict_public_buckets off" in violation.message
    assert "block_public_acls=True, block_public_policy=True, ignore_public_acls=True, " \
           "restrict_public_buckets=True on the aws.s3.AccountPublicAccessBlock" in violation.message


# --- s3-bucket-not-public -------------------------------------------------------------------


def test_private_acl_and_account_policy_pass(snap, run_policy):
    account_read = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                    "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/*"}
    service_with_condition = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                              "Resource": f"{BUCKET_ARN}/*",
                              "Condition": {"StringEquals": {"aws:SourceAccount": "111122223333"}}}
    report = run_policy("s3-bucket-not-public", [
        snap(BUCKET, "data", {"bucket": "retail-dev-data"}),
        snap(ACL, "data", {"bucket": "retail-dev-data", "acl": "private"}),
        # The TLS-only deny names Principal "*" too, but denies: not public.
        snap(POLICY, "data", {"policy": document(TLS_DENY, account_read, service_with_condition)}),
    ])
    assert report.violations == []


@pytest.mark.parametrize(("acl", "who"), [("public-read", "everyone list and read it"),
                                          ("public-read-write", "everyone list, read and write it"),
                                          ("authenticated-read", "every AWS account list and read it")])
def test_public_canned_acl_fails(snap, run_policy, acl, who):
    bucket_acl = snap(ACL, "data", {"bucket": "retail-dev-data", "acl": acl})
    [violation] = run_policy("s3-bucket-not-public", [bucket_acl]).violations
    assert violation.urn == bucket_acl.urn
    assert f"canned ACL {acl!r} lets {who}, so the bucket is public" in violation.message
    assert "object_ownership='BucketOwnerEnforced', no acl or grants" in violation.message


def test_public_acl_on_the_bucket_itself_fails(snap, run_policy):
    bucket = snap(BUCKET, "data", {"acl": "public-read-write"})
    [violation] = run_policy("s3-bucket-not-public", [bucket]).violations
    assert violation.urn == bucket.urn
    assert "'public-read-write'" in violation.message


def test_acl_grant_to_all_users_fails(snap, run_policy):
    grant = {"grantee": {"type": "Group", "uri": ALL_USERS}, "permission": "READ"}
    bucket_acl = snap(ACL, "data", {"accessControlPolicy": {"grants": [grant], "owner": {"id": "x"}}})
    [violation] = run_policy("s3-bucket-not-public", [bucket_acl]).violations
    assert f"ACL grants READ to everyone ({ALL_USERS})" in violation.message


def test_inline_bucket_grant_to_all_users_fails(snap, run_policy):
    bucket = snap(BUCKET, "data", {"grants": [{"type": "Group", "uri": ALL_USERS,
                                               "permissions": ["READ", "WRITE"]}]})
    [violation] = run_policy("s3-bucket-not-public", [bucket]).violations
    assert "ACL grants READ/WRITE to everyone" in violation.message


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::1:root", "*"]}],
                         ids=["star", "aws-star", "list-with-star"])
def test_policy_allowing_everyone_without_condition_fails(snap, run_policy, principal):
    statement = {"Sid": "Open", "Effect": "Allow", "Principal": principal, "Action": "s3:GetObject",
                 "Resource": f"{BUCKET_ARN}/*"}
    policy = snap(POLICY, "data", {"policy": document(TLS_DENY, statement)})
    [violation] = run_policy("s3-bucket-not-public", [policy]).violations
    assert violation.urn == policy.urn
    assert "statement Open allows every AWS principal ('*') without a Condition" in violation.message
    assert "aws.s3.BucketPolicy that names account, role or service principals" in violation.message


def test_policy_with_not_principal_fails(snap, run_policy):
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "s3:*"}
    [violation] = run_policy("s3-bucket-not-public",
                             [snap(POLICY, "data", {"policy": document(statement)})]).violations
    assert "statement #0 allows every AWS principal outside NotPrincipal" in violation.message


def test_inline_bucket_policy_is_checked(snap, run_policy):
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    bucket = snap(BUCKET, "data", {"policy": document(statement)})
    [violation] = run_policy("s3-bucket-not-public", [bucket]).violations
    assert violation.urn == bucket.urn


def test_unreadable_policy_fails(snap, run_policy):
    [violation] = run_policy("s3-bucket-not-public",
                             [snap(POLICY, "data", {"policy": "{nope"})]).violations
    assert "bucket policy is not valid JSON" in violation.message
    assert "json.dumps(document)" in violation.message


# --- s3-bucket-ssl-requests-only ------------------------------------------------------------


@pytest.mark.parametrize(
    "deny",
    [
        TLS_DENY,
        {**TLS_DENY, "Action": "*", "Principal": {"AWS": "*"}},
        {**TLS_DENY, "Action": ["s3:*"], "Condition": {"BoolIfExists": {"aws:SecureTransport": False}}},
        {**TLS_DENY, "Condition": {"bool": {"AWS:SecureTransport": ["false"]}}},
    ],
    ids=["canonical", "star-action", "bool-if-exists", "case-insensitive"],
)
def test_policy_denying_plain_http_passes(bucket_set, run_policy, deny):
    bucket, companions = bucket_set(policy={"policy": document(deny)})
    assert run_policy("s3-bucket-ssl-requests-only", resources(bucket, companions)).violations == []


def test_bucket_without_policy_fails_on_the_bucket(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("policy",))
    [violation] = run_policy("s3-bucket-ssl-requests-only", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "bucket data has no bucket policy" in violation.message
    assert "add an aws.s3.BucketPolicy with bucket=bucket.id" in violation.message
    assert "'aws:SecureTransport': 'false'" in violation.message


@pytest.mark.parametrize(
    "statement",
    [
        {**TLS_DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
        {**TLS_DENY, "Effect": "Allow"},
        {**TLS_DENY, "Principal": {"AWS": "arn:aws:iam::1:root"}},
        {**TLS_DENY, "Action": "s3:GetObject"},
        {**TLS_DENY, "Condition": {}},
    ],
    ids=["true", "allow", "one-principal", "one-action", "no-condition"],
)
def test_policy_without_tls_deny_fails_on_the_policy(bucket_set, run_policy, statement):
    bucket, companions = bucket_set(policy={"policy": document(statement)})
    [violation] = run_policy("s3-bucket-ssl-requests-only", resources(bucket, companions)).violations
    assert violation.urn == companions["policy"].urn
    assert "bucket policy of data does not deny requests over plain HTTP" in violation.message
    assert "add the statement {'Effect': 'Deny'" in violation.message


def test_policy_of_another_bucket_does_not_count(bucket_set, snap, run_policy):
    bucket, companions = bucket_set()
    other = snap(BUCKET, "other", {})
    [violation] = run_policy("s3-bucket-ssl-requests-only",
                             [*resources(bucket, companions), other]).violations
    assert violation.urn == other.urn


def test_policy_naming_the_bucket_without_dependency_does_not_count(bucket_set, snap, run_policy):
    # Only the engine's dependency record links a new bucket: its name may be unknown.
    bucket, companions = bucket_set(without=("policy",))
    loose = snap(POLICY, "loose", {"bucket": "retail-dev-data", "policy": document(TLS_DENY)})
    [violation] = run_policy("s3-bucket-ssl-requests-only",
                             [*resources(bucket, companions), loose]).violations
    assert violation.urn == bucket.urn


def test_unknown_policy_of_one_bucket_does_not_hide_another(bucket_set, run_policy):
    # Preview: a new bucket's policy embeds its ARN, so it is unknown; the other bucket is
    # still checked, and the policy reports that it could not finish.
    new, new_companions = bucket_set("new", policy={"policy": UNKNOWN_STRING_VALUE})
    bare, bare_companions = bucket_set("bare", without=("policy",))
    report = run_policy("s3-bucket-ssl-requests-only",
                        [*resources(new, new_companions), *resources(bare, bare_companions)])
    mandatory = [v for v in report.violations if v.enforcement == "mandatory"]
    advisory = [v for v in report.violations if v.enforcement == "advisory"]
    assert [v.urn for v in mandatory] == [bare.urn]
    [note] = advisory
    assert "during preview" in note.message


# --- s3-bucket-public-access-block ----------------------------------------------------------


def test_bucket_with_full_public_access_block_passes(bucket_set, run_policy):
    assert run_policy("s3-bucket-public-access-block", resources(*bucket_set())).violations == []


def test_bucket_without_public_access_block_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("pab",))
    [violation] = run_policy("s3-bucket-public-access-block", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "add an aws.s3.BucketPublicAccessBlock with bucket=bucket.id and block_public_acls=True" \
           in violation.message


def test_public_access_block_with_a_flag_off_fails_on_the_block(bucket_set, run_policy):
    bucket, companions = bucket_set(pab={**FLAGS, "restrictPublicBuckets": False})
    [violation] = run_policy("s3-bucket-public-access-block", resources(bucket, companions)).violations
    assert violation.urn == companions["pab"].urn
    assert "leaves restrict_public_buckets off; set restrict_public_buckets=True." in violation.message


# --- s3-bucket-access-logging ---------------------------------------------------------------


def test_bucket_with_logging_passes(bucket_set, run_policy):
    assert run_policy("s3-bucket-access-logging", resources(*bucket_set())).violations == []


def test_bucket_without_logging_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("logging",))
    [violation] = run_policy("s3-bucket-access-logging", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "has no server access logging; add an aws.s3.BucketLogging with bucket=bucket.id" \
           in violation.message


def test_being_a_log_target_is_not_logging(bucket_set, snap, run_policy):
    # The logs bucket receives logs (targetBucket) but is not logged itself.
    logs, logs_companions = bucket_set("logs", without=("logging",))
    data, data_companions = bucket_set("data", without=("logging",))
    logging = snap(LOGGING, "data-logging", {"targetPrefix": "data/"},
                   property_dependencies={"bucket": (data.urn,), "targetBucket": (logs.urn,)})
    [violation] = run_policy("s3-bucket-access-logging", [*resources(logs, logs_companions),
                                                          *resources(data, data_companions),
                                                          logging]).violations
    assert violation.urn == logs.urn


# --- s3-bucket-acls-disabled ----------------------------------------------------------------


def test_bucket_owner_enforced_passes(bucket_set, run_policy):
    assert run_policy("s3-bucket-acls-disabled", resources(*bucket_set())).violations == []


def test_bucket_without_ownership_controls_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("ownership",))
    [violation] = run_policy("s3-bucket-acls-disabled", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "rule={'object_ownership': 'BucketOwnerEnforced'}" in violation.message


@pytest.mark.parametrize("ownership", ["ObjectWriter", "BucketOwnerPreferred"])
def test_ownership_controls_that_keep_acls_fail(bucket_set, run_policy, ownership):
    bucket, companions = bucket_set(ownership={"rule": {"objectOwnership": ownership}})
    [violation] = run_policy("s3-bucket-acls-disabled", resources(bucket, companions)).violations
    assert violation.urn == companions["ownership"].urn
    assert f"object_ownership={ownership!r}" in violation.message
    assert "set object_ownership='BucketOwnerEnforced'" in violation.message


# --- s3-bucket-lifecycle --------------------------------------------------------------------


def test_bucket_with_enabled_lifecycle_rule_passes(bucket_set, run_policy):
    assert run_policy("s3-bucket-lifecycle", resources(*bucket_set())).violations == []


def test_bucket_without_lifecycle_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("lifecycle",))
    [violation] = run_policy("s3-bucket-lifecycle", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "add an aws.s3.BucketLifecycleConfiguration with bucket=bucket.id" in violation.message


def test_lifecycle_with_only_disabled_rules_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(lifecycle={"rules": [{"id": "off", "status": "Disabled"}]})
    [violation] = run_policy("s3-bucket-lifecycle", resources(bucket, companions)).violations
    assert violation.urn == companions["lifecycle"].urn
    assert "give at least one rule status='Enabled'" in violation.message


# --- s3-bucket-versioning -------------------------------------------------------------------


def test_versioned_bucket_passes(bucket_set, run_policy):
    assert run_policy("s3-bucket-versioning", resources(*bucket_set())).violations == []


def test_bucket_without_versioning_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("versioning",))
    [violation] = run_policy("s3-bucket-versioning", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "versioning_configuration={'status': 'Enabled'}" in violation.message


def test_suspended_versioning_fails_on_the_versioning(bucket_set, run_policy):
    bucket, companions = bucket_set(versioning={"versioningConfiguration": {"status": "Suspended"}})
    [violation] = run_policy("s3-bucket-versioning", resources(bucket, companions)).violations
    assert violation.urn == companions["versioning"].urn
    assert "versioning of bucket data is 'Suspended'" in violation.message


def test_deprecated_v2_tokens_count_as_the_same_resources(snap, run_policy):
    bucket = snap("aws:s3/bucketV2:BucketV2", "data", {})
    versioning = snap("aws:s3/bucketVersioningV2:BucketVersioningV2", "data",
                      {"versioningConfiguration": {"status": "Enabled"}},
                      property_dependencies={"bucket": (bucket.urn,)})
    assert run_policy("s3-bucket-versioning", [bucket, versioning]).violations == []
    [violation] = run_policy("s3-bucket-versioning", [bucket]).violations
    assert violation.urn == bucket.urn


# --- s3-bucket-kms-encryption ---------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["aws:kms", "aws:kms:dsse"])
def test_bucket_with_customer_key_passes(bucket_set, run_policy, algorithm):
    bucket, companions = bucket_set(encryption=sse(algorithm))
    assert run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations == []


def test_key_unknown_during_preview_counts_as_a_customer_key(bucket_set, run_policy):
    bucket, companions = bucket_set(encryption=sse(key=UNKNOWN_STRING_VALUE))
    assert run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations == []


def test_bucket_without_encryption_configuration_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(without=("encryption",))
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "has no server-side encryption configuration" in violation.message
    assert "sse_algorithm='aws:kms' and kms_master_key_id=" in violation.message


def test_sse_s3_without_the_exception_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(encryption=sse("AES256", key=None))
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert violation.urn == companions["encryption"].urn
    assert "encrypted with SSE-S3 (AES256), not a KMS key" in violation.message
    assert "set sse_algorithm='aws:kms'" in violation.message
    assert "tagged control-exceptions='S3.17'" in violation.message


@pytest.mark.parametrize("declared", ["S3.17", "S3.9 S3.17", "S3.17/S3.9", " S3.17 "])
def test_sse_s3_under_the_accepted_exception_passes(bucket_set, run_policy, declared):
    bucket, companions = bucket_set("logs", extra_tags={"control-exceptions": declared},
                                    encryption=sse("AES256", key=None))
    assert run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations == []


def test_exception_never_removes_encryption(bucket_set, run_policy):
    bucket, companions = bucket_set("logs", extra_tags={"control-exceptions": "S3.17"},
                                    without=("encryption",))
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert violation.urn == bucket.urn
    assert "claims exception S3.17 but has no server-side encryption configuration" in violation.message
    assert "never no encryption" in violation.message
    assert "sse_algorithm='AES256'" in violation.message


def test_exception_for_another_control_does_not_allow_sse_s3(bucket_set, run_policy):
    bucket, companions = bucket_set(extra_tags={"control-exceptions": "S3.9"},
                                    encryption=sse("AES256", key=None))
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert violation.urn == companions["encryption"].urn


def test_exception_does_not_allow_an_aws_managed_key(bucket_set, run_policy):
    bucket, companions = bucket_set("logs", extra_tags={"control-exceptions": "S3.17"},
                                    encryption=sse(key=None))
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert "AWS-managed aws/s3 key" in violation.message


@pytest.mark.parametrize("key", [None, "alias/aws/s3", "arn:aws:kms:eu-west-1:111122223333:alias/aws/s3"],
                         ids=["missing", "alias", "alias-arn"])
def test_aws_managed_key_fails(bucket_set, run_policy, key):
    bucket, companions = bucket_set(encryption=sse(key=key))
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert violation.urn == companions["encryption"].urn
    assert "encrypted with the AWS-managed aws/s3 key" in violation.message
    assert "set kms_master_key_id to the customer-managed key's ARN" in violation.message


def test_rule_without_default_encryption_fails(bucket_set, run_policy):
    bucket, companions = bucket_set(encryption={"rules": [{"bucketKeyEnabled": True}]})
    [violation] = run_policy("s3-bucket-kms-encryption", resources(bucket, companions)).violations
    assert "sets no default encryption" in violation.message
    assert "apply_server_side_encryption_by_default" in violation.message
