"""ObjectStore, built alone under the blueprint's mocks, and its pure policy builders."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import boto3
import pulumi_aws as aws
import pytest
from moto import mock_aws

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.synth import run_program
from components.common.compliance import ACCESS_LOG_TARGET_EXCEPTION
from components.common.conventions import MANAGED_BY, STANDARD_TAG_KEYS
from components.common.grants import KMS_DECRYPT, KMS_ENCRYPT
from components.data.bucket_policies import (
    allow_access_log_delivery,
    bucket_policy,
    bucket_read_policy,
    bucket_read_write_policy,
    bucket_write_policy,
    deny_insecure_transport,
    deny_unencrypted_uploads,
    merge_statements,
)
from components.data.object_storage import (
    ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS,
    CONTROL_EXCEPTIONS_TAG,
    ObjectStore,
    ObjectStoreArgs,
    purpose_slug,
)
from components.data.settings import BUCKET_PURPOSES
from config.loader import parse_stack_config
from policies._taggable import is_taggable
from tests.support import PROJECT, stack_context

REGION = "eu-west-1"
# Not the mocks' account: proves the component uses the account it is given.
ACCOUNT_ID = "210987654321"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET_ARN = "arn:aws:s3:::retail-prod-data-lake"
SLUGS = {"assets": "assets", "dataLake": "data-lake", "logs": "logs", "backups": "backups"}
KMS_PURPOSES = ("assets", "dataLake", "backups")

BUCKET = "aws:s3/bucket:Bucket"
ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
OBJECT_LOCK = "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration"
ACCOUNT_BLOCK = "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
STORE = "retail:data:ObjectStore"
EVERY_BUCKET = (ENCRYPTION, VERSIONING, OWNERSHIP, PUBLIC_ACCESS_BLOCK, POLICY, LOGGING, LIFECYCLE)

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}


def alb_log_delivery(bucket_arn: str, partition: str, account_id: str) -> dict[str, Any]:
    """An extra statement such as a load-balancer component would hand the store."""
    return {"Sid": "AllowAlbLogDelivery", "Effect": "Allow",
            "Principal": {"AWS": f"arn:{partition}:iam::156460612806:root"},
            "Action": "s3:PutObject", "Resource": f"{bucket_arn}/alb/AWSLogs/{account_id}/*"}


@cache
def build(stack: str = "prod", *, protect: bool = False, account_block: bool = True,
          extra: bool = False) -> ResourceGraph:
    """The store alone, plus one role granted read, write and read-write on two buckets."""
    flat = PROJECT.stack_config(stack)
    config = parse_stack_config(flat)
    storage = config.storage.model_copy(update={"account_public_access_block": account_block})

    def program() -> None:
        store = ObjectStore("storage",
            stack_context(conventions=config.conventions(stack), region=config.region, account_id=ACCOUNT_ID,
                          protect=protect),
            ObjectStoreArgs(
                settings=storage,
                data_key_arn=KEY_ARN,
                extra_statements={"logs": (alb_log_delivery,)} if extra else {},
            ))
        role = aws.iam.Role("app", assume_role_policy=json.dumps(TRUST), tags=config.conventions(stack).tags("app"))
        for purpose in ("dataLake", "logs"):
            store.grant_read(role, purpose)
            store.grant_write(role, purpose)
            store.grant_read_write(role, purpose)

    return run_program(program, project=PROJECT.name, stack=stack, config=flat)


def buckets(graph: ResourceGraph) -> dict[str, Resource]:
    return {purpose: graph.one(BUCKET, f"storage-{slug}") for purpose, slug in SLUGS.items()}


def settings(graph: ResourceGraph, type_token: str) -> dict[str, Resource]:
    """The settings resources of one type, by the purpose of the bucket they belong to."""
    purpose_of = {bucket.urn: purpose for purpose, bucket in buckets(graph).items()}
    found: dict[str, Resource] = {}
    for resource in graph.of_type(type_token):
        purpose = purpose_of[resource.parent]
        assert purpose not in found, f"two {type_token} for {purpose}"
        found[purpose] = resource
    return found


def policy_of(graph: ResourceGraph, purpose: str) -> dict[str, Any]:
    return json.loads(settings(graph, POLICY)[purpose].inputs["policy"])


def statements_by_sid(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Sid"]: s for s in document["Statement"]}


def grant(graph: ResourceGraph, purpose: str, access: str) -> dict[str, Any]:
    return json.loads(graph.one(ROLE_POLICY, f"storage-{SLUGS[purpose]}-{access}-app").inputs["policy"])


# -- buckets and their settings -------------------------------------------------------------

def test_one_bucket_per_purpose_named_after_stack_and_purpose():
    graph = build()
    store = graph.one(STORE)
    found = buckets(graph)
    assert set(found) == set(BUCKET_PURPOSES)
    assert len(graph.of_type(BUCKET)) == len(BUCKET_PURPOSES)
    for purpose, bucket in found.items():
        assert bucket.inputs["bucket"] == f"retail-prod-{SLUGS[purpose]}-{ACCOUNT_ID}"
        assert bucket.parent == store.urn
        assert bucket.inputs["region"] == REGION


@pytest.mark.parametrize("type_token", EVERY_BUCKET)
def test_every_bucket_has_each_setting_as_its_own_child(type_token):
    graph = build()
    found = settings(graph, type_token)
    assert set(found) == set(BUCKET_PURPOSES)
    for purpose, bucket in buckets(graph).items():
        assert found[purpose].inputs["bucket"] == bucket.id
        assert found[purpose].inputs["region"] == REGION


def test_data_buckets_are_encrypted_with_our_data_key_and_bucket_keys():
    encryption = settings(build(), ENCRYPTION)
    for purpose in KMS_PURPOSES:
        (rule,) = encryption[purpose].inputs["rules"]
        assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY_ARN}
        assert rule["bucketKeyEnabled"] is True


def test_logs_bucket_uses_sse_s3_under_a_named_tagged_exception():
    graph = build()
    (rule,) = settings(graph, ENCRYPTION)["logs"].inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert ACCESS_LOG_TARGET_EXCEPTION.control == "S3.17"
    assert "SSE-S3" in ACCESS_LOG_TARGET_EXCEPTION.reason
    tags = {purpose: bucket.inputs["tags"] for purpose, bucket in buckets(graph).items()}
    assert tags["logs"][CONTROL_EXCEPTIONS_TAG] == "S3.17"
    assert all(CONTROL_EXCEPTIONS_TAG not in tags[purpose] for purpose in KMS_PURPOSES)


def test_the_policy_pack_reads_the_exception_as_the_store_writes_it():
    # The component cannot import the pack (pulumi_policy is not a program dependency), so
    # this test is what keeps the tag name and the accepted control from drifting apart.
    from policies.exceptions import ACCEPTED_EXCEPTIONS, declared_exceptions
    from policies.exceptions import CONTROL_EXCEPTIONS_TAG as PACK_TAG

    logs_bucket = buckets(build())["logs"]
    assert PACK_TAG == CONTROL_EXCEPTIONS_TAG
    assert declared_exceptions(logs_bucket.inputs["tags"]) == (ACCESS_LOG_TARGET_EXCEPTION.control,)
    assert ACCESS_LOG_TARGET_EXCEPTION.control in ACCEPTED_EXCEPTIONS


def test_versioning_on_acls_off_and_public_access_blocked_on_every_bucket():
    graph = build()
    for versioning in settings(graph, VERSIONING).values():
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
    for ownership in settings(graph, OWNERSHIP).values():
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    for block in settings(graph, PUBLIC_ACCESS_BLOCK).values():
        assert {flag: block.inputs.get(flag) for flag in (
            "blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")} == {
            "blockPublicAcls": True, "blockPublicPolicy": True,
            "ignorePublicAcls": True, "restrictPublicBuckets": True}


def test_every_bucket_policy_denies_requests_without_tls():
    graph = build()
    for purpose, bucket in buckets(graph).items():
        deny = statements_by_sid(policy_of(graph, purpose))["DenyInsecureTransport"]
        arn = f"arn:aws:s3:::{bucket.id}"
        assert deny == {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"],
                        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


def test_data_bucket_policies_refuse_uploads_with_another_encryption_or_key():
    graph = build()
    for purpose in KMS_PURPOSES:
        statements = statements_by_sid(policy_of(graph, purpose))
        algorithm = statements["DenyOtherEncryptionOnUpload"]
        assert algorithm["Effect"] == "Deny" and algorithm["Action"] == ["s3:PutObject"]
        # Present and not aws:kms: an upload without the header still gets the default.
        assert algorithm["Condition"] == {"Null": {"s3:x-amz-server-side-encryption": "false"},
                                          "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}
        key = statements["DenyOtherKmsKeysOnUpload"]
        assert key["Effect"] == "Deny" and key["Action"] == ["s3:PutObject"]
        assert key["Condition"] == {
            "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
            "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": KEY_ARN}}
        assert statements["DenyCustomerProvidedKeysOnUpload"]["Condition"] == {
            "Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}}


def test_logs_bucket_policy_allows_only_sse_s3_uploads():
    statements = statements_by_sid(policy_of(build(), "logs"))
    assert statements["DenyOtherEncryptionOnUpload"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": "AES256"}
    assert "DenyOtherKmsKeysOnUpload" not in statements
    assert "DenyCustomerProvidedKeysOnUpload" in statements


def test_only_the_logs_bucket_accepts_access_logs_and_only_from_our_buckets_in_our_account():
    graph = build()
    arns = [f"arn:aws:s3:::{bucket.id}" for bucket in buckets(graph).values()]
    delivery = statements_by_sid(policy_of(graph, "logs"))["AllowS3ServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == ["s3:PutObject"]
    assert delivery["Resource"] == [f"arn:aws:s3:::retail-prod-logs-{ACCOUNT_ID}/s3-access/*"]
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    assert sorted(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(arns)
    for purpose in KMS_PURPOSES:
        assert all(s["Effect"] == "Deny" for s in policy_of(graph, purpose)["Statement"])


def test_bucket_policy_waits_for_the_public_access_block():
    # S3 refuses a policy write while the access block is being written.
    graph = build()
    blocks = settings(graph, PUBLIC_ACCESS_BLOCK)
    for purpose, policy in settings(graph, POLICY).items():
        assert blocks[purpose].urn in policy.dependencies


def test_every_bucket_logs_to_the_logs_bucket_under_its_own_prefix():
    graph = build()
    logs_bucket = buckets(graph)["logs"]
    logs_policy = settings(graph, POLICY)["logs"]
    for purpose, logging in settings(graph, LOGGING).items():
        assert logging.inputs["targetBucket"] == logs_bucket.inputs["bucket"]
        assert logging.inputs["targetPrefix"] == f"s3-access/{SLUGS[purpose]}/"
        assert logs_policy.urn in logging.dependencies


def lifecycle(graph: ResourceGraph, purpose: str) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in settings(graph, LIFECYCLE)[purpose].inputs["rules"]}


@pytest.mark.parametrize("stack, noncurrent_days", [("dev", 30), ("prod", 90)])
def test_every_bucket_expires_old_versions_and_abandoned_uploads(stack, noncurrent_days):
    graph = build(stack)
    for purpose in BUCKET_PURPOSES:
        rules = lifecycle(graph, purpose)
        assert all(rule["status"] == "Enabled" and rule["filter"] == {} for rule in rules.values())
        assert rules["expire-noncurrent-versions"]["noncurrentVersionExpiration"] == {
            "noncurrentDays": noncurrent_days}
        assert rules["abort-incomplete-multipart-uploads"]["abortIncompleteMultipartUpload"] == {
            "daysAfterInitiation": ABORT_INCOMPLETE_UPLOADS_AFTER_DAYS}


def test_prod_logs_move_to_glacier_after_a_year_and_expire_after_seven():
    rules = lifecycle(build("prod"), "logs")
    assert rules["archive-current-objects"]["transitions"] == [{"storageClass": "GLACIER", "days": 365}]
    assert rules["expire-current-objects"]["expiration"] == {"days": 2557}


def test_dev_logs_expire_after_ninety_days_without_archiving():
    rules = lifecycle(build("dev"), "logs")
    assert "archive-current-objects" not in rules
    assert rules["expire-current-objects"]["expiration"] == {"days": 90}


def test_current_objects_of_the_other_buckets_are_kept():
    graph = build("prod")
    for purpose in KMS_PURPOSES:
        assert set(lifecycle(graph, purpose)) == {"abort-incomplete-multipart-uploads", "expire-noncurrent-versions"}


def test_object_lock_only_on_prod_backups_with_the_configured_retention():
    graph = build("prod")
    assert {p: b.inputs["objectLockEnabled"] for p, b in buckets(graph).items()} == {
        "assets": False, "dataLake": False, "logs": False, "backups": True}
    lock = settings(graph, OBJECT_LOCK)
    assert set(lock) == {"backups"}
    assert lock["backups"].inputs["objectLockEnabled"] == "Enabled"
    assert lock["backups"].inputs["rule"] == {"defaultRetention": {"mode": "GOVERNANCE", "days": 35}}
    assert lock["backups"].inputs["bucket"] == buckets(graph)["backups"].id
    assert settings(graph, VERSIONING)["backups"].urn in lock["backups"].dependencies


def test_no_object_lock_in_dev():
    graph = build("dev")
    assert graph.of_type(OBJECT_LOCK) == []
    assert not any(b.inputs["objectLockEnabled"] for b in buckets(graph).values())


def test_the_store_leaves_the_account_wide_block_to_the_platform():
    # One setting per account: the global part of the platform owns it (tests/components/platform).
    assert build().of_type(ACCOUNT_BLOCK) == []


def test_buckets_are_protected_and_kept_from_force_destroy_only_when_asked():
    protected, unprotected = build(protect=True), build(protect=False)
    for bucket in buckets(protected).values():
        assert bucket.protect is True and bucket.inputs["forceDestroy"] is False
    for bucket in buckets(unprotected).values():
        assert bucket.protect is False and bucket.inputs["forceDestroy"] is True
    assert [r.urn for r in unprotected if r.protect] == []
    # Only buckets and what inherits from them: never the account block nor the grants.
    for resource in protected:
        if resource.protect:
            assert resource.type == BUCKET or protected.get(resource.parent).type == BUCKET, resource.urn
    assert not any(policy.protect for policy in protected.of_type(ROLE_POLICY))


def test_every_taggable_resource_of_the_store_carries_the_standard_tags():
    graph = build()
    stack_config = parse_stack_config(PROJECT.stack_config("prod"))
    expected = stack_config.conventions("prod").standard_tags
    taggable = [r for r in graph.descendants(graph.one(STORE).urn) if r.custom and is_taggable(r.type)]
    assert {r.type for r in taggable} == {BUCKET}
    assert len(taggable) == len(BUCKET_PURPOSES)
    for resource in taggable:
        tags = resource.inputs["tags"]
        assert {key: tags.get(key) for key in STANDARD_TAG_KEYS} == expected, resource.urn
        assert tags["managed-by"] == MANAGED_BY
        assert f"{tags['Name']}-{ACCOUNT_ID}" == resource.inputs["bucket"]


def test_every_resource_of_the_store_descends_from_it():
    graph = build()
    store = graph.one(STORE)
    inside = {r.urn for r in graph.descendants(store.urn)}
    outside = [r for r in graph if r.custom and r.urn not in inside]
    # The test's own role, and the grants attached to it (parented under the role).
    assert {r.type for r in outside} == {"aws:iam/role:Role", ROLE_POLICY}
    assert all(r.parent == graph.one("aws:iam/role:Role").urn for r in outside if r.type == ROLE_POLICY)


def test_extra_statements_merge_into_that_purposes_policy_only():
    graph = build(extra=True)
    delivery = statements_by_sid(policy_of(graph, "logs"))["AllowAlbLogDelivery"]
    assert delivery["Resource"] == f"arn:aws:s3:::retail-prod-logs-{ACCOUNT_ID}/alb/AWSLogs/{ACCOUNT_ID}/*"
    assert delivery["Principal"] == {"AWS": "arn:aws:iam::156460612806:root"}
    for purpose in KMS_PURPOSES:
        assert "AllowAlbLogDelivery" not in statements_by_sid(policy_of(graph, purpose))


# -- grants ---------------------------------------------------------------------------------

def actions_by_resource(document: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for stmt in document["Statement"]:
        assert stmt["Effect"] == "Allow"
        for resource in stmt["Resource"]:
            found.setdefault(resource, set()).update(stmt["Action"])
    return found


DATA_LAKE = f"arn:aws:s3:::retail-prod-data-lake-{ACCOUNT_ID}"
LOGS = f"arn:aws:s3:::retail-prod-logs-{ACCOUNT_ID}"
READ = {f"{DATA_LAKE}/*": {"s3:GetObject", "s3:GetObjectVersion"},
        DATA_LAKE: {"s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketLocation"}}
WRITE = {f"{DATA_LAKE}/*": {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
         DATA_LAKE: {"s3:ListBucketMultipartUploads"}}


@pytest.mark.parametrize("access, objects, key_actions", [
    ("read", READ, KMS_DECRYPT),
    ("write", WRITE, KMS_ENCRYPT),
    ("read-write", {arn: READ[arn] | WRITE[arn] for arn in READ}, KMS_ENCRYPT),
])
def test_grants_give_exactly_the_named_actions_and_the_key_through_s3_only(access, objects, key_actions):
    document = grant(build(), "dataLake", access)
    assert actions_by_resource(document) == {**objects, KEY_ARN: set(key_actions)}
    (key,) = [s for s in document["Statement"] if s["Resource"] == [KEY_ARN]]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}
    assert all(action.startswith("kms:") for action in key["Action"])


@pytest.mark.parametrize("access", ["read", "write", "read-write"])
def test_no_grant_deletes_or_names_every_resource(access):
    graph = build()
    for purpose in ("dataLake", "logs"):
        document = grant(graph, purpose, access)
        actions = {a for s in document["Statement"] for a in s["Action"]}
        assert not any(a.startswith("s3:Delete") for a in actions)
        assert not any(a.startswith("s3:") and "*" in a for a in actions)
        resources = [r for s in document["Statement"] for r in s["Resource"]]
        assert "*" not in resources


@pytest.mark.parametrize("access", ["read", "write", "read-write"])
def test_grants_on_the_sse_s3_logs_bucket_need_no_key(access):
    document = grant(build(), "logs", access)
    assert not any(a.startswith("kms:") for s in document["Statement"] for a in s["Action"])
    assert set(actions_by_resource(document)) == {LOGS, f"{LOGS}/*"}


def test_grants_are_inline_policies_of_the_role_under_the_role():
    # A grant is the role's: parented there, so what waits for the store never waits for the
    # workloads granted access to it.
    graph = build()
    role = graph.one("aws:iam/role:Role")
    for policy in graph.of_type(ROLE_POLICY):
        assert policy.parent == role.urn
        assert policy.inputs["role"] == role.id


def test_unknown_purpose_is_a_key_error_listing_the_purposes():
    flat = PROJECT.stack_config("dev")
    config = parse_stack_config(flat)
    errors: list[Exception] = []

    def program() -> None:
        store = ObjectStore("storage",
            stack_context(conventions=config.conventions("dev"), region=config.region, account_id=ACCOUNT_ID),
            ObjectStoreArgs(
                settings=config.storage,
                data_key_arn=KEY_ARN,
            ))
        role = aws.iam.Role("app", assume_role_policy=json.dumps(TRUST))
        for call in (lambda: store.grant_read(role, "media"), lambda: store.bucket_arn("data-lake")):
            try:
                call()
            except KeyError as error:
                errors.append(error)

    run_program(program, project=PROJECT.name, stack="dev", config=flat)
    assert [str(e) for e in errors] == [
        "\"no bucket for purpose 'media'; purposes: assets, dataLake, logs, backups\"",
        "\"no bucket for purpose 'data-lake'; purposes: assets, dataLake, logs, backups\"",
    ]


def test_extra_statements_for_an_unknown_purpose_are_refused():
    flat = PROJECT.stack_config("dev")
    config = parse_stack_config(flat)
    errors: list[Exception] = []

    def program() -> None:
        try:
            ObjectStore("storage",
                stack_context(conventions=config.conventions("dev"), region=config.region, account_id=ACCOUNT_ID),
                ObjectStoreArgs(
                    settings=config.storage,
                    data_key_arn=KEY_ARN,
                    extra_statements={"albLogs": (alb_log_delivery,)},
                ))
        except ValueError as error:
            errors.append(error)

    run_program(program, project=PROJECT.name, stack="dev", config=flat)
    assert [str(e) for e in errors] == [
        "extra_statements for unknown purposes albLogs; purposes: assets, dataLake, logs, backups"]



# -- policies admitted later ----------------------------------------------------------------

READ_ASSETS = {"Sid": "AllowCdnRead", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
               "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::assets/*"]}


def admitted_later(admits: list[tuple[str, list[dict[str, Any]]]], *, require: bool = True
                   ) -> tuple[ResourceGraph, list[Exception]]:
    """The store with ``assets`` admitted later, then each of ``admits`` in turn (errors kept)."""
    flat = PROJECT.stack_config("dev")
    config = parse_stack_config(flat)
    errors: list[Exception] = []

    def program() -> None:
        store = ObjectStore("storage",
            stack_context(conventions=config.conventions("dev"), region=config.region, account_id=ACCOUNT_ID),
            ObjectStoreArgs(settings=config.storage, data_key_arn=KEY_ARN, admitted_later=frozenset({"assets"})))
        calls = [lambda purpose=purpose, statements=statements: store.admit(purpose, statements)
                 for purpose, statements in admits]
        for call in [*calls, *([store.require_admitted] if require else [])]:
            try:
                call()
            except (KeyError, ValueError) as error:
                errors.append(error)

    return run_program(program, project=PROJECT.name, stack="dev", config=flat), errors


def test_admit_writes_the_policy_the_purpose_always_had_plus_the_statements():
    before, now = build("dev"), admitted_later([("assets", [READ_ASSETS])])[0]
    (policy,) = [p for p in now.of_type(POLICY) if p.parent == buckets(now)["assets"].urn]
    (old,) = [p for p in before.of_type(POLICY) if p.parent == buckets(before)["assets"].urn]
    # Same name, parent and type: the same URN, so the engine updates the policy in place.
    assert (policy.urn, policy.dependencies) == (old.urn, old.dependencies)
    assert json.loads(policy.inputs["policy"])["Statement"] == [
        *json.loads(old.inputs["policy"])["Statement"], READ_ASSETS]
    assert len(now.of_type(POLICY)) == len(before.of_type(POLICY))


def test_a_purpose_admitted_later_has_no_policy_until_admitted():
    graph, errors = admitted_later([], require=False)
    assert errors == []
    assert set(settings(graph, POLICY)) == {"dataLake", "logs", "backups"}


def test_admitting_twice_is_refused():
    graph, errors = admitted_later([("assets", [READ_ASSETS]), ("assets", [READ_ASSETS])])
    assert [str(e) for e in errors] == [
        "purpose 'assets' is already admitted: give admit() every statement at once"]
    assert "assets" in settings(graph, POLICY)


def test_admitting_a_purpose_not_declared_is_refused():
    _, errors = admitted_later([("dataLake", [READ_ASSETS]), ("media", [READ_ASSETS]), ("assets", [READ_ASSETS])])
    assert [str(e) for e in errors] == [
        "purpose 'dataLake' is not in ObjectStoreArgs.admitted_later: its bucket policy is written with the bucket",
        "\"no bucket for purpose 'media'; purposes: assets, dataLake, logs, backups\""]


def test_a_purpose_never_admitted_is_an_error():
    _, errors = admitted_later([])
    assert [str(e) for e in errors] == [
        "object store 'storage': purpose assets declared in ObjectStoreArgs.admitted_later but never admitted: "
        "call admit() for each"]


@pytest.mark.parametrize("purposes, message", [
    ({"media"}, "admitted_later names no bucket purpose: media"),
    ({"logs"}, "admitted_later cannot hold 'logs'"),
])
def test_store_args_refuse_what_cannot_be_admitted_later(purposes, message):
    config = parse_stack_config(PROJECT.stack_config("dev"))
    with pytest.raises(ValueError, match=message):
        ObjectStoreArgs(settings=config.storage, data_key_arn=KEY_ARN, admitted_later=frozenset(purposes))

# -- pure documents -------------------------------------------------------------------------

def every_document() -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {
        "kms bucket policy": bucket_policy(BUCKET_ARN, KEY_ARN),
        "logs bucket policy": bucket_policy(LOGS, None, account_id=ACCOUNT_ID, access_log_sources=[BUCKET_ARN, LOGS],
                                            extra_statements=[alb_log_delivery(LOGS, "aws", ACCOUNT_ID)]),
    }
    for key_arn in (KEY_ARN, None):
        for build_grant in (bucket_read_policy, bucket_write_policy, bucket_read_write_policy):
            documents[f"{build_grant.__name__} {key_arn}"] = build_grant(BUCKET_ARN, key_arn, REGION)
    return documents


@pytest.mark.parametrize("name, document", every_document().items())
def test_policy_documents_are_json_with_unique_sids(name, document):
    assert json.loads(json.dumps(document)) == document
    assert document["Version"] == "2012-10-17"
    sids = [s["Sid"] for s in document["Statement"]]
    assert all(sids) and len(sids) == len(set(sids)), sids


@mock_aws
def test_grants_pass_iams_own_policy_validation():
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="app", AssumeRolePolicyDocument=json.dumps(TRUST))
    for name, document in every_document().items():
        if "bucket policy" not in name:
            iam.put_role_policy(RoleName="app", PolicyName=name.replace(" ", "-"), PolicyDocument=json.dumps(document))


def test_bucket_policy_is_the_named_statements_in_order():
    document = bucket_policy(LOGS, None, account_id=ACCOUNT_ID, access_log_sources=[LOGS])
    assert document["Statement"] == [deny_insecure_transport(LOGS), *deny_unencrypted_uploads(LOGS, None),
                                     allow_access_log_delivery(LOGS, ACCOUNT_ID, [LOGS])]


@pytest.mark.parametrize("statements, message", [
    ([{"Sid": "A"}, {"Sid": "B"}, {"Sid": "A"}], "repeated: A"),
    ([{"Sid": "A"}, {"Effect": "Allow"}], r"positions \[1\] have no Sid"),
])
def test_merging_refuses_repeated_or_missing_sids(statements, message):
    with pytest.raises(ValueError, match=message):
        merge_statements(statements)


def test_extra_statement_cannot_shadow_a_built_in_one():
    with pytest.raises(ValueError, match="repeated: DenyInsecureTransport"):
        bucket_policy(BUCKET_ARN, KEY_ARN, extra_statements=[{"Sid": "DenyInsecureTransport", "Effect": "Allow"}])


def test_access_log_delivery_needs_the_account():
    with pytest.raises(ValueError, match="account id"):
        bucket_policy(LOGS, None, access_log_sources=[BUCKET_ARN])


@pytest.mark.parametrize("purpose, slug", SLUGS.items())
def test_purpose_slugs(purpose: str, slug: str):
    assert purpose_slug(purpose) == slug

