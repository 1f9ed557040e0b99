"""The RDS Proxy's role and the connect grants in moto: IAM accepts every document; moto's
evaluator (conftest.py), with the real ARNs, shows the proxy reads exactly the cluster's master
secret and decrypts only through Secrets Manager, and a workload connects only through the
proxy as its own user. (moto's Secrets Manager and RDS authorise every call against "*", so a
resource-scoped grant is judged by the evaluator, not by a live call.)"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.iam.access_control import PermissionResult

from blueprint.mocks import ACCOUNT_ID
from components.data.sql_proxy import (
    proxy_connect_policy,
    proxy_role_policy,
    proxy_trust_policy,
    proxy_user_policy,
)
from tests.iam.conftest import MotoAccount, moto_evaluate

PERMITTED = PermissionResult.PERMITTED
REGION = "eu-west-1"
SECRETS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/0d1e2f3a-4b5c-4d6e-8f90-a1b2c3d4e5f6"
CLUSTER_ID = "cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PROXY_ID = "prx-0123456789abcdef0"
USER = "checkout_app"


@pytest.fixture
def account() -> Iterator[MotoAccount]:
    with mock_aws():
        yield MotoAccount(region=REGION)


@pytest.fixture
def secrets(account: MotoAccount) -> tuple[str, str]:
    """The cluster's RDS-managed master secret and another secret of the account, as moto ARNs."""
    client = account.client("secretsmanager")
    master = client.create_secret(Name="rds!cluster-3f1e2d4c-aaaa-bbbb-cccc-1234567890ab", SecretString="x")["ARN"]
    other = client.create_secret(Name="retail-prod-payments-api-key", SecretString="y")["ARN"]
    return master, other


def test_iam_accepts_every_document(account, secrets):
    master, _ = secrets
    account.accepts_role_policy(proxy_role_policy(master, SECRETS_KEY, REGION), name="proxy")
    account.accepts_role_policy(proxy_user_policy("aws", REGION, ACCOUNT_ID, CLUSTER_ID, USER), name="proxy-user")
    account.accepts_role_policy(proxy_connect_policy("aws", REGION, ACCOUNT_ID, PROXY_ID, USER), name="checkout")
    iam = account.client("iam")
    iam.create_role(RoleName="trust-check", AssumeRolePolicyDocument="{}")
    iam.update_assume_role_policy(RoleName="trust-check", PolicyDocument=json.dumps(proxy_trust_policy(ACCOUNT_ID)))


def test_the_proxy_reads_exactly_the_master_secret(account, secrets):
    master, other = secrets
    policy = proxy_role_policy(master, SECRETS_KEY, REGION)
    assert moto_evaluate(policy, "secretsmanager:GetSecretValue", master) == PERMITTED
    assert moto_evaluate(policy, "secretsmanager:GetSecretValue", other) != PERMITTED
    for action in ("secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret",
                   "secretsmanager:RotateSecret", "secretsmanager:ListSecrets"):
        assert moto_evaluate(policy, action, master) != PERMITTED


def test_the_proxy_decrypts_with_the_secrets_key_only_through_secrets_manager(secrets):
    master, _ = secrets
    policy = proxy_role_policy(master, SECRETS_KEY, REGION)
    via = {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}
    assert moto_evaluate(policy, "kms:Decrypt", SECRETS_KEY, context=via) == PERMITTED
    assert moto_evaluate(policy, "kms:Decrypt", SECRETS_KEY,
                         context={"kms:ViaService": f"rds.{REGION}.amazonaws.com"}) != PERMITTED
    assert moto_evaluate(policy, "kms:Decrypt", DATA_KEY, context=via) != PERMITTED
    assert moto_evaluate(policy, "kms:Encrypt", SECRETS_KEY, context=via) != PERMITTED


def test_the_proxy_signs_in_to_the_cluster_only_as_the_granted_user():
    policy = proxy_user_policy("aws", REGION, ACCOUNT_ID, CLUSTER_ID, USER)
    user = f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:{CLUSTER_ID}/{USER}"
    assert moto_evaluate(policy, "rds-db:connect", user) == PERMITTED
    assert moto_evaluate(policy, "rds-db:connect", user.replace(USER, "retail_admin")) != PERMITTED
    assert moto_evaluate(policy, "rds-db:connect",
                         user.replace(CLUSTER_ID, "cluster-ZZZZZZZZZZZZZZZZZZZZZZZZZZ")) != PERMITTED


def test_a_workload_connects_through_the_proxy_and_not_to_the_cluster():
    policy = proxy_connect_policy("aws", REGION, ACCOUNT_ID, PROXY_ID, USER)
    base = f"arn:aws:rds-db:{REGION}:{ACCOUNT_ID}:dbuser:"
    assert moto_evaluate(policy, "rds-db:connect", f"{base}{PROXY_ID}/{USER}") == PERMITTED
    assert moto_evaluate(policy, "rds-db:connect", f"{base}{CLUSTER_ID}/{USER}") != PERMITTED
    assert moto_evaluate(policy, "rds-db:connect", f"{base}{PROXY_ID}/orders_ro") != PERMITTED
    assert moto_evaluate(policy, "rds-db:connect", f"{base}prx-ffffffffffffffff0/{USER}") != PERMITTED
