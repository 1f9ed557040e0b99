"""The AWS Backup role's key grant: IAM (moto) accepts it, and it lets the role use the stores'
key and the DR vault's key through the backing-up services of each key's region only, grants
only for AWS resources, and nothing on any other key.

moto's evaluator reads a statement whose condition fails as DENIED even when its resource does
not match (conftest.py), so it judges each statement alone (the role may do what one
statement permits); the whole document, with the ``Bool`` on ``kms:GrantIsForAWSResource``
that moto ignores, goes through the reference evaluator.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from moto.iam.access_control import PermissionResult

from tests.components.resilience.test_backup import DATA_KEY, DR, DR_KEY, PRIMARY, ROLE_POLICY, build

PERMITTED = PermissionResult.PERMITTED
OTHER_KEY = f"arn:aws:kms:{PRIMARY}:123456789012:key/11111111-2222-4333-8444-555555555555"
USE = ("kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom",
       "kms:ReEncryptTo", "kms:DescribeKey", "kms:Encrypt")
ACTIONS = (*USE, "kms:CreateGrant")
KEYS = [(DATA_KEY, PRIMARY), (DR_KEY, DR)]


@pytest.fixture(scope="module")
def grant() -> dict[str, Any]:
    (policy,) = build().of_type(ROLE_POLICY)
    return json.loads(policy.inputs["policy"])


def via(service: str, region: str, *, for_aws_resource: bool = True) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com",
            "kms:GrantIsForAWSResource": "true" if for_aws_resource else "false"}


def moto_permits(moto_eval, grant, action: str, key: str, context: dict[str, str]) -> bool:
    return any(moto_eval({"Version": grant["Version"], "Statement": [s]}, action, key, context=context) == PERMITTED
               for s in grant["Statement"])


def test_iam_accepts_the_grant(aws, grant):
    aws.accepts_role_policy(grant)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("key, region", KEYS)
@pytest.mark.parametrize("service", ["backup", "rds", "dynamodb", "s3"])
def test_each_key_is_usable_through_the_backing_up_services_of_its_region(moto_eval, ref_eval, grant, action,
                                                                          key, region, service):
    assert moto_permits(moto_eval, grant, action, key, via(service, region))
    assert ref_eval(grant, action, key, context=via(service, region)) == PERMITTED


@pytest.mark.parametrize("action", ACTIONS)
def test_nothing_on_another_key_through_another_service_or_from_the_other_region(moto_eval, ref_eval, grant, action):
    refused = [(OTHER_KEY, via("backup", PRIMARY)), (DATA_KEY, via("ec2", PRIMARY)), (DATA_KEY, via("kms", PRIMARY)),
               # Each key only through its own region's services: the copy is made in the DR region.
               (DR_KEY, via("backup", PRIMARY)), (DATA_KEY, via("backup", DR))]
    for key, context in refused:
        assert not moto_permits(moto_eval, grant, action, key, context), (key, context)
        assert ref_eval(grant, action, key, context=context) != PERMITTED, (key, context)


@pytest.mark.parametrize("key, region", KEYS)
def test_grants_only_for_aws_resources(ref_eval, grant, key, region):
    context = via("backup", region, for_aws_resource=False)
    assert ref_eval(grant, "kms:CreateGrant", key, context=context) != PERMITTED
    assert ref_eval(grant, "kms:Decrypt", key, context=context) == PERMITTED


@pytest.mark.parametrize("action", ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "kms:RevokeGrant",
                                    "kms:RetireGrant", "kms:Sign", "kms:CreateKey"))
@pytest.mark.parametrize("key, region", KEYS)
def test_no_key_management_or_other_use(moto_eval, ref_eval, grant, action, key, region):
    assert not moto_permits(moto_eval, grant, action, key, via("backup", region))
    assert ref_eval(grant, action, key, context=via("backup", region)) != PERMITTED
