"""The partner API's IAM documents in moto: the SigV4 partner's invoke grant and API
Gateway's execution-log role, accepted by IAM and judged by moto's evaluator (conftest.py)
against a REST API's execute-api ARNs. Allowed and denied calls both shown.
"""

from __future__ import annotations

import json

import pytest
from moto.iam.access_control import PermissionResult

from components.api.partner_api import cloudwatch_push_policy, invoke_policy
from components.common.grants import service_trust_policy

PERMITTED = PermissionResult.PERMITTED


@pytest.fixture
def execution_arn(aws) -> str:
    # moto's API Gateway needs openapi-spec-validator, which the venv does not carry: the API's
    # id is one of the shape API Gateway gives (ten lower-case letters and digits).
    return f"arn:aws:execute-api:{aws.region}:{aws.account_id}:a1b2c3d4e5"


def test_iam_accepts_the_invoke_grant(aws, execution_arn):
    aws.accepts_role_policy(invoke_policy(execution_arn, "v1", "GET", "/orders/{orderId}"))


def test_invoke_grant_allows_its_operation_only(moto_eval, execution_arn):
    policy = invoke_policy(execution_arn, "v1", "GET", "/orders/{orderId}")
    allowed = f"{execution_arn}/v1/GET/orders/ORD-12345678"
    assert moto_eval(policy, "execute-api:Invoke", allowed) is PERMITTED
    for other in (f"{execution_arn}/v1/GET/catalogue", f"{execution_arn}/v1/DELETE/orders/ORD-12345678",
                  f"{execution_arn}/v2/GET/orders/ORD-12345678",
                  f"{execution_arn.rsplit(':', 1)[0]}:zzzzzzzzzz/v1/GET/orders/ORD-12345678"):
        assert moto_eval(policy, "execute-api:Invoke", other) is not PERMITTED, other
    # Invoking is all it grants: no management of the API (apigateway:*), no cache invalidation.
    assert moto_eval(policy, "execute-api:InvalidateCache", allowed) is not PERMITTED
    assert moto_eval(policy, "apigateway:DELETE", f"arn:aws:apigateway:{execution_arn.split(':')[3]}::/restapis/x"
                     ) is not PERMITTED


def test_iam_accepts_the_execution_log_role(aws):
    aws.accepts_role_policy(cloudwatch_push_policy("aws", aws.region, aws.account_id), name="apigw-cloudwatch")
    trust = service_trust_policy("apigateway.amazonaws.com", aws.account_id)
    aws.client("iam").update_assume_role_policy(RoleName="apigw-cloudwatch", PolicyDocument=json.dumps(trust))


def test_execution_log_role_writes_only_execution_log_groups(aws, moto_eval):
    policy = cloudwatch_push_policy("aws", aws.region, aws.account_id)
    groups = f"arn:aws:logs:{aws.region}:{aws.account_id}:log-group"
    execution = f"{groups}:API-Gateway-Execution-Logs_a1b2c3d4e5/v1:log-stream:abc"
    assert moto_eval(policy, "logs:PutLogEvents", execution) is PERMITTED
    assert moto_eval(policy, "logs:CreateLogStream", execution) is PERMITTED
    for other in (f"{groups}:/aws/apigateway/retail-prod-partners-v1/access:log-stream:abc",
                  f"{groups}:/aws/eks/retail-prod/cluster:log-stream:abc"):
        assert moto_eval(policy, "logs:PutLogEvents", other) is not PERMITTED, other
    for action in ("logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DisassociateKmsKey"):
        assert moto_eval(policy, action, execution) is not PERMITTED, action
