"""The CI roles' documents (components/ci/github_oidc.py) in moto and under the reference evaluator.

moto shows IAM accepts them: the provider without a thumbprint, the trust policies through
``update_assume_role_policy`` (moto's grammar check), the deny grant as an inline policy, and it
ships AWS's ReadOnlyAccess document, so the deny is shown to take away exactly what that policy
would otherwise give. moto's STS does not evaluate a trust policy on
``AssumeRoleWithWebIdentity`` (it hands out credentials for any token), so which tokens may
assume each role is decided by the reference evaluator (blueprint/iam_eval.py), ours, from the
IAM rules: ``StringLike`` on ``sub``, ``StringEquals`` on ``aud``, the ``Federated`` principal.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from moto import mock_aws
from moto.iam.access_control import PermissionResult
from moto.iam.aws_managed_policies import aws_managed_policies_data

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.ci.github_oidc import (
    DATA_READ_ACTIONS,
    GITHUB_ISSUER,
    GITHUB_ISSUER_URL,
    STS_AUDIENCE,
    GithubOidc,
    GithubOidcArgs,
)
from components.ci.settings import CiConfig
from components.common.conventions import Conventions
from tests.iam.conftest import MotoAccount, moto_evaluate, reference_evaluate
from tests.support import stack_context

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL
REPO = "acme/retail-platform"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_ISSUER}"
ASSUME = "sts:AssumeRoleWithWebIdentity"


@cache
def documents(stack: str, deploy_from_branches: bool) -> dict[str, dict[str, Any]]:
    """Each role's trust policy and the preview role's grant, as the component emits them."""
    config = CiConfig.model_validate({"enabled": True, "repository": REPO, "deployFromBranches": deploy_from_branches,
                                      "environments": [] if deploy_from_branches else ["staging", "prod"]})

    def program() -> None:
        context = stack_context(Conventions(stack, "platform", "cc-1234", "confidential", stack))
        GithubOidc("ci", context, GithubOidcArgs(config))

    graph: ResourceGraph = run_program(program, project="retail", stack=stack, config={"aws:region": "eu-west-1"})
    found = {r.name: json.loads(r.inputs["assumeRolePolicy"]) for r in graph.of_type("aws:iam/role:Role")}
    (grant,) = graph.of_type("aws:iam/rolePolicy:RolePolicy")
    return found | {"no-data-reads": json.loads(grant.inputs["policy"])}


def token(sub: str, aud: str = STS_AUDIENCE) -> dict[str, str]:
    """The condition context of a GitHub OIDC token with these claims."""
    return {f"{GITHUB_ISSUER}:sub": sub, f"{GITHUB_ISSUER}:aud": aud}


def may_assume(trust: dict[str, Any], sub: str, aud: str = STS_AUDIENCE) -> PermissionResult:
    return reference_evaluate(trust, ASSUME, f"arn:aws:iam::{ACCOUNT_ID}:role/x", context=token(sub, aud),
                              principal=("Federated", PROVIDER_ARN))


def test_iam_accepts_the_provider_the_trust_policies_and_the_grant():
    # Its own account: the shared `aws` fixture would synthesize the prod stack for nothing.
    with mock_aws():
        accepted_by_iam(MotoAccount(region="eu-west-1"))


def accepted_by_iam(aws: MotoAccount) -> None:
    iam = aws.client("iam")
    provider = iam.create_open_id_connect_provider(Url=GITHUB_ISSUER_URL, ClientIDList=[STS_AUDIENCE])
    assert provider["OpenIDConnectProviderArn"] == PROVIDER_ARN
    docs = documents("prod", False)
    for name in ("ci-preview", "ci-deploy"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(docs[name]))
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(docs[name]))
    aws.accepts_role_policy(docs["no-data-reads"])


def test_this_repositorys_pull_requests_and_main_may_preview_nothing_else():
    trust = documents("prod", False)["ci-preview"]
    assert may_assume(trust, f"repo:{REPO}:pull_request") == PERMITTED
    assert may_assume(trust, f"repo:{REPO}:ref:refs/heads/main") == PERMITTED
    for sub in (
        f"repo:{REPO}:ref:refs/heads/feature",          # a branch not listed
        f"repo:{REPO}:ref:refs/heads/main-evil",        # a look-alike branch
        f"repo:{REPO}:ref:refs/tags/v1.0.0",            # a tag
        f"repo:{REPO}:environment:prod",                # the preview role is not the deploy role
        "repo:mallory/retail-platform:pull_request",    # a fork's pull request, in the fork
        "repo:mallory/retail-platform:ref:refs/heads/main",
        f"repo:{REPO}-fork:pull_request",               # a look-alike repository
        "repo:acme/other:pull_request",                 # another repository of the same owner
        f"repo:{REPO.upper()}:pull_request",            # values are case-sensitive
    ):
        assert may_assume(trust, sub) == NEUTRAL, sub
    # A token minted for another audience is refused, whatever its subject.
    assert may_assume(trust, f"repo:{REPO}:pull_request", aud="https://github.com/acme") == NEUTRAL


def test_only_approved_environments_may_deploy_staging_and_prod():
    trust = documents("prod", False)["ci-deploy"]
    assert may_assume(trust, f"repo:{REPO}:environment:prod") == PERMITTED
    assert may_assume(trust, f"repo:{REPO}:environment:staging") == PERMITTED
    for sub in (
        f"repo:{REPO}:ref:refs/heads/main",   # a push job outside the environment skips its reviewers
        f"repo:{REPO}:pull_request",          # a pull request never deploys
        f"repo:{REPO}:environment:production",
        f"repo:{REPO}:environment:dev",
        "repo:mallory/retail-platform:environment:prod",
    ):
        assert may_assume(trust, sub) == NEUTRAL, sub


def test_dev_deploys_from_main_when_it_says_so():
    trust = documents("dev", True)["ci-deploy"]
    assert may_assume(trust, f"repo:{REPO}:ref:refs/heads/main") == PERMITTED
    assert may_assume(trust, f"repo:{REPO}:pull_request") == NEUTRAL
    assert may_assume(trust, "repo:mallory/retail-platform:ref:refs/heads/main") == NEUTRAL


def test_no_other_principal_may_use_the_trust():
    trust = documents("prod", False)["ci-preview"]
    other = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
    assert reference_evaluate(trust, ASSUME, "*", context=token(f"repo:{REPO}:pull_request"),
                              principal=("Federated", other)) == NEUTRAL
    # And only through AssumeRoleWithWebIdentity.
    assert reference_evaluate(trust, "sts:AssumeRole", "*", context=token(f"repo:{REPO}:pull_request"),
                              principal=("Federated", PROVIDER_ARN)) == NEUTRAL


@pytest.fixture
def read_only_access() -> dict[str, Any]:
    """AWS's ReadOnlyAccess document, from the copy of AWS's managed policies moto ships (moto
    loads them into an account only on request; the document is all this test needs)."""
    return json.loads(aws_managed_policies_data)["ReadOnlyAccess"]["Document"]


def test_the_deny_takes_away_the_data_reads_read_only_access_gives_and_nothing_else(read_only_access):
    deny = documents("prod", False)["no-data-reads"]
    granted = [action for action in DATA_READ_ACTIONS if moto_evaluate(read_only_access, action) == PERMITTED]
    # The deny is not for show: ReadOnlyAccess does give these (moto's copy may lag AWS's for the newest).
    assert {"s3:GetObject", "dynamodb:Scan", "dynamodb:GetItem", "kinesis:GetRecords", "logs:GetLogEvents",
            "athena:GetQueryResults"} <= set(granted)
    for action in DATA_READ_ACTIONS:
        assert reference_evaluate(deny, action, "arn:aws:s3:::retail-prod-data-lake/orders/1.parquet") == DENIED
    # What a preview reads stays readable: the deny does not apply, ReadOnlyAccess allows.
    for action in ("ec2:DescribeVpcs", "s3:GetBucketPolicy", "dynamodb:DescribeTable", "iam:GetRole",
                   "kms:DescribeKey", "eks:DescribeCluster", "rds:DescribeDBClusters"):
        assert reference_evaluate(deny, action) == NEUTRAL, action
        assert moto_evaluate(read_only_access, action) == PERMITTED, action
