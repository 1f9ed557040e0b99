"""The S3 replication role in moto: the document the ObjectStore attaches to it (a primary
store replicating into the DR slice's store, built with ``context.for_dr``), accepted by IAM
and judged by moto's evaluator with the real bucket and key ARNs.

S3 replication itself is not emulated by moto (no replication worker calls ReplicateObject as
the role), so the role's grants are evaluated, not exercised: moto's evaluator for actions,
resources and ``kms:ViaService`` (StringEquals), the reference evaluator for the
``kms:EncryptionContext:aws:s3:arn`` ArnLike that moto ignores (conftest.py).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from moto.iam.access_control import PermissionResult

from blueprint import ResourceGraph
from blueprint.synth import run_program
from components.data.bucket_policies import REPLICATION_DESTINATION_ACTIONS, REPLICATION_SOURCE_OBJECT_ACTIONS
from components.data.object_storage import (
    REPLICATED_PURPOSES,
    BucketReplication,
    ObjectStore,
    ObjectStoreArgs,
    purpose_slug,
)
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
REGION, DR_REGION = "eu-west-1", "eu-central-1"
ACCOUNT_ID = "123456789012"
MRK = "mrk-0a1b2c3d4e5f60718293a4b5c6d7e8f9"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/{MRK}"
DR_DATA_KEY = f"arn:aws:kms:{DR_REGION}:{ACCOUNT_ID}:key/{MRK}"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/mrk-99999999999999999999999999999999"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
BUCKET = "aws:s3/bucket:Bucket"
CONTEXT_KEY = "kms:EncryptionContext:aws:s3:arn"


@cache
def graph() -> ResourceGraph:
    flat = PROJECT.stack_config("prod")
    config = parse_stack_config(flat)
    context = stack_context(conventions=config.conventions("prod"), region=REGION, account_id=ACCOUNT_ID,
                            protect=True)

    def program() -> None:
        dr = ObjectStore("dr-storage", context.for_dr(DR_REGION),
                         ObjectStoreArgs(settings=config.storage, data_key_arn=DR_DATA_KEY))
        ObjectStore("storage", context, ObjectStoreArgs(
            settings=config.storage, data_key_arn=DATA_KEY,
            replication=BucketReplication.to_store(dr, DR_DATA_KEY, time_control=True)))

    return run_program(program, project=PROJECT.name, stack="prod", config=flat)


def policy() -> str:
    return graph().one(ROLE_POLICY, "storage-replication").inputs["policy"]


def trust() -> str:
    return graph().one(ROLE, "storage-replication").inputs["assumeRolePolicy"]


def bucket_arn(store: str, purpose: str) -> str:
    return f"arn:aws:s3:::{graph().one(BUCKET, f'{store}-{purpose_slug(purpose)}').inputs['bucket']}"


def via(service: str, region: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"}


def test_iam_accepts_the_role_and_its_policy(aws):
    iam = aws.client("iam")
    iam.create_role(RoleName="replication", AssumeRolePolicyDocument=trust())
    # create_role does not validate the trust policy; update_assume_role_policy does.
    iam.update_assume_role_policy(RoleName="replication", PolicyDocument=trust())
    iam.put_role_policy(RoleName="replication", PolicyName="replication", PolicyDocument=policy())
    read = iam.get_role_policy(RoleName="replication", PolicyName="replication")["PolicyDocument"]
    assert read == json.loads(policy())


@pytest.mark.parametrize("purpose", REPLICATED_PURPOSES)
def test_the_role_replicates_into_the_dr_bucket_of_each_purpose(moto_eval, purpose):
    for action in REPLICATION_DESTINATION_ACTIONS:
        assert moto_eval(policy(), action, f"{bucket_arn('dr-storage', purpose)}/some/key") is PERMITTED, action
    for action in REPLICATION_SOURCE_OBJECT_ACTIONS:
        assert moto_eval(policy(), action, f"{bucket_arn('storage', purpose)}/some/key") is PERMITTED, action
    assert moto_eval(policy(), "s3:GetReplicationConfiguration", bucket_arn("storage", purpose)) is PERMITTED


@pytest.mark.parametrize("target", [("storage", "logs"), ("dr-storage", "logs"), ("storage", "assets")])
def test_the_role_writes_nowhere_else(moto_eval, target):
    # The logs buckets of both regions, and the primary's own bucket (replicating back into
    # the source would loop), are out of reach.
    store, purpose = target
    for action in (*REPLICATION_DESTINATION_ACTIONS, "s3:PutObject", "s3:DeleteObject"):
        assert moto_eval(policy(), action, f"{bucket_arn(store, purpose)}/some/key") is NEUTRAL, (target, action)


def test_the_role_reads_no_logs_and_no_replica(moto_eval):
    for store, purpose in (("storage", "logs"), ("dr-storage", "assets")):
        for action in (*REPLICATION_SOURCE_OBJECT_ACTIONS, "s3:GetObject"):
            assert moto_eval(policy(), action, f"{bucket_arn(store, purpose)}/k") is NEUTRAL, (store, action)


def test_decrypts_with_the_source_key_only_through_s3_in_the_primary_region(moto_eval):
    assert moto_eval(policy(), "kms:Decrypt", DATA_KEY, context=via("s3", REGION)) is PERMITTED
    # moto reads a failed condition of an Allow as DENIED: not allowed, which is the point.
    assert moto_eval(policy(), "kms:Decrypt", DATA_KEY, context=via("s3", DR_REGION)) is DENIED
    assert moto_eval(policy(), "kms:Decrypt", DATA_KEY, context=via("dynamodb", REGION)) is DENIED
    assert moto_eval(policy(), "kms:Decrypt", SECRETS_KEY, context=via("s3", REGION)) is NEUTRAL
    # moto judges a statement's condition before its resource (conftest.py): the source key
    # is shown out of the encrypt statement's reach with that statement's own service.
    assert moto_eval(policy(), "kms:Encrypt", DATA_KEY, context=via("s3", DR_REGION)) is NEUTRAL


def test_encrypts_with_the_replica_key_only_through_s3_in_the_dr_region(moto_eval):
    for action in ("kms:Encrypt", "kms:GenerateDataKey"):
        assert moto_eval(policy(), action, DR_DATA_KEY, context=via("s3", DR_REGION)) is PERMITTED, action
        assert moto_eval(policy(), action, DR_DATA_KEY, context=via("s3", REGION)) is DENIED, action
        assert moto_eval(policy(), action, DR_DATA_KEY, context=via("secretsmanager", DR_REGION)) is DENIED
        # The source key, with the encrypt statement's own service (see above).
        assert moto_eval(policy(), action, DATA_KEY, context=via("s3", DR_REGION)) is NEUTRAL, action
    assert moto_eval(policy(), "kms:Decrypt", DR_DATA_KEY, context=via("s3", REGION)) is NEUTRAL


def test_no_key_use_outside_its_statement(ref_eval):
    """The cases moto's condition-first reading cannot show, with the reference evaluator."""
    assert ref_eval(policy(), "kms:Encrypt", DATA_KEY, context=via("s3", REGION)) is NEUTRAL
    assert ref_eval(policy(), "kms:GenerateDataKey", DATA_KEY, context=via("s3", REGION)) is NEUTRAL
    assert ref_eval(policy(), "kms:Decrypt", DR_DATA_KEY, context=via("s3", DR_REGION)) is NEUTRAL
    assert ref_eval(policy(), "kms:Decrypt", SECRETS_KEY, context=via("s3", REGION)) is NEUTRAL


def test_each_key_serves_only_its_own_buckets_encryption_context(ref_eval):
    """The reference evaluator: moto ignores ArnLike."""
    source, replica = bucket_arn("storage", "dataLake"), bucket_arn("dr-storage", "dataLake")

    def decrypt(context_arn: str) -> Any:
        return ref_eval(policy(), "kms:Decrypt", DATA_KEY, context={**via("s3", REGION), CONTEXT_KEY: context_arn})

    def encrypt(context_arn: str) -> Any:
        return ref_eval(policy(), "kms:GenerateDataKey", DR_DATA_KEY,
                        context={**via("s3", DR_REGION), CONTEXT_KEY: context_arn})

    # Bucket keys: the context is the bucket; versions from before them: the object.
    assert decrypt(source) is PERMITTED and decrypt(f"{source}/a/b") is PERMITTED
    assert encrypt(replica) is PERMITTED and encrypt(f"{replica}/a/b") is PERMITTED
    assert decrypt(bucket_arn("storage", "logs")) is NEUTRAL
    assert decrypt(replica) is NEUTRAL
    assert encrypt(source) is NEUTRAL
    assert encrypt(bucket_arn("dr-storage", "logs")) is NEUTRAL
