"""GithubOidc built alone under the project's mocks, and retail:ci's validation."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from pydantic import ValidationError

from blueprint import ResourceGraph
from blueprint.checks import check, snapshots
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.ci.github_oidc import (
    DATA_READ_ACTIONS,
    GITHUB_ISSUER,
    GithubOidc,
    GithubOidcArgs,
    github_trust_policy,
    subjects,
)
from components.ci.settings import CiConfig
from components.common.conventions import Conventions
from policies import github_oidc
from policies.offline import evaluate
from tests.support import stack_context

REGION = "eu-west-1"
REPO = "acme/retail-platform"
PROVIDER = "aws:iam/openIdConnectProvider:OpenIdConnectProvider"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
EXISTING = f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{GITHUB_ISSUER}"


def settings(**values: Any) -> CiConfig:
    return CiConfig.model_validate({"enabled": True, "repository": REPO, **values})


@cache
def built(stack: str, config_json: str) -> ResourceGraph:
    config = CiConfig.model_validate_json(config_json)

    def program() -> None:
        context = stack_context(Conventions(stack, "platform", "cc-1234", "confidential", stack), region=REGION)
        GithubOidc("ci", context, GithubOidcArgs(config))

    return run_program(program, project="retail", stack=stack, config={"aws:region": REGION})


def build(stack: str = "prod", **values: Any) -> ResourceGraph:
    return built(stack, settings(**values).model_dump_json())


def roles(graph: ResourceGraph) -> dict[str, dict[str, Any]]:
    return {r.inputs["name"]: r.inputs for r in graph.of_type(ROLE)}


def trust_subjects(role: dict[str, Any]) -> list[str]:
    (stmt,) = json.loads(role["assumeRolePolicy"])["Statement"]
    return stmt["Condition"]["StringLike"][f"{GITHUB_ISSUER}:sub"]


def test_the_provider_is_github_for_sts_without_a_thumbprint():
    graph = build()
    (provider,) = graph.of_type(PROVIDER)
    assert provider.inputs["url"] == f"https://{GITHUB_ISSUER}"
    assert provider.inputs["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in provider.inputs
    assert provider.inputs["tags"]["stack"] == "prod"
    component = graph.one("retail:ci:GithubOidc")
    # Every cloud resource is under the component (grants and attachments under their role).
    custom = {r.urn for r in graph if r.custom and r.type.startswith("aws:iam/")}
    assert len(custom) == 6 and custom == {r.urn for r in graph.descendants(component.urn) if r.custom}


def test_preview_and_deploy_trust_exactly_their_subjects_by_default():
    found = roles(build())
    preview, deploy = found["retail-prod-ci-preview"], found["retail-prod-ci-deploy"]
    assert trust_subjects(preview) == [f"repo:{REPO}:ref:refs/heads/main", f"repo:{REPO}:pull_request"]
    # By default no push job outside an environment may deploy: only the approved environments.
    assert trust_subjects(deploy) == [f"repo:{REPO}:environment:staging", f"repo:{REPO}:environment:prod"]
    for role in (preview, deploy):
        (stmt,) = json.loads(role["assumeRolePolicy"])["Statement"]
        assert stmt["Principal"] == {"Federated": EXISTING}
        assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert stmt["Condition"]["StringEquals"] == {f"{GITHUB_ISSUER}:aud": "sts.amazonaws.com"}
        assert role["tags"]["github-repository"] == REPO
    assert preview["maxSessionDuration"] == 3600
    assert deploy["maxSessionDuration"] > 3600  # a first prod `pulumi up` outlasts an hour


def test_dev_deploys_from_its_branch_when_it_says_so():
    found = roles(build("dev", environments=[], deployFromBranches=True, branches=["main", "release/2026"]))
    assert trust_subjects(found["retail-dev-ci-deploy"]) == [
        f"repo:{REPO}:ref:refs/heads/main", f"repo:{REPO}:ref:refs/heads/release/2026"]


def test_the_preview_role_reads_but_is_denied_the_data_plane_and_deploy_is_administrator():
    graph = build()
    attachments = {a.name: a.inputs["policyArn"] for a in graph.of_type(ATTACHMENT)}
    assert attachments == {"ci-preview-read-only": "arn:aws:iam::aws:policy/ReadOnlyAccess",
                           "ci-deploy-administrator": "arn:aws:iam::aws:policy/AdministratorAccess"}
    (grant,) = graph.of_type("aws:iam/rolePolicy:RolePolicy")
    assert grant.name == "ci-preview-no-data-reads"
    (deny,) = json.loads(grant.inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Resource"] == ["*"]
    assert set(deny["Action"]) == set(DATA_READ_ACTIONS) >= {"s3:GetObject", "dynamodb:Scan",
                                                              "secretsmanager:GetSecretValue"}


def test_an_existing_provider_is_used_not_created():
    graph = build(providerArn=EXISTING)
    assert graph.of_type(PROVIDER) == []
    for role in roles(graph).values():
        (stmt,) = json.loads(role["assumeRolePolicy"])["Statement"]
        assert stmt["Principal"] == {"Federated": EXISTING}


def test_pull_requests_can_be_left_out_of_the_preview_role():
    assert trust_subjects(roles(build(pullRequests=False))["retail-prod-ci-preview"]) == [
        f"repo:{REPO}:ref:refs/heads/main"]


def test_the_component_refuses_a_disabled_config():
    with pytest.raises(ValueError, match="enabled"):
        GithubOidc("ci", stack_context(Conventions("dev", "o", "c", "internal", "dev")), GithubOidcArgs(CiConfig()))


def test_defaults_are_off_main_and_staging_prod():
    config = CiConfig()
    assert (config.enabled, config.repository, config.branches, config.environments,
            config.deploy_from_branches) == (False, None, ["main"], ["staging", "prod"], False)


@pytest.mark.parametrize(("values", "message"), [
    ({"enabled": True}, "retail:ci.repository is required when retail:ci.enabled is true"),
    ({"repository": "acme"}, "is not a GitHub repository: write it as 'owner/name'"),
    ({"repository": "acme/*"}, "is not a GitHub repository"),
    ({"repository": "https://github.com/acme/shop"}, "is not a GitHub repository"),
    ({"repository": "-acme/shop"}, "is not a GitHub repository"),
    ({"branches": ["main*"]}, "are not branch names"),
    ({"branches": ["refs/heads/main"]}, "no 'refs/heads/' prefix"),
    ({"branches": ["main", "main"]}, "listed twice"),
    ({"environments": ["pro?"]}, "are not GitHub environment names"),
    ({"enabled": True, "repository": REPO, "environments": []}, "deploy role with no job"),
    ({"enabled": True, "repository": REPO, "branches": [], "pullRequests": False}, "preview role with no job"),
    ({"providerArn": "arn:aws:iam::123456789012:oidc-provider/example.com"}, "not the ARN of a GitHub OIDC"),
    ({"enabled": "yes"}, "expected true or false"),
    ({"repo": REPO}, "Extra inputs are not permitted"),
])
def test_invalid_settings_name_the_problem(values, message):
    with pytest.raises(ValidationError, match=message.replace("?", r"\?").replace("*", r"\*")):
        CiConfig.model_validate(values)


def test_the_builders_refuse_wildcards_and_empty_lists():
    with pytest.raises(ValueError, match="without wildcards"):
        subjects("acme/*", branches=["main"])
    with pytest.raises(ValueError, match="at least one subject"):
        subjects(REPO)
    with pytest.raises(ValueError, match="non-empty"):
        github_trust_policy(EXISTING, [])


@pytest.mark.parametrize(("stack", "values"), [("prod", {}), ("dev", {"environments": [], "deployFromBranches": True})])
def test_the_pack_and_the_github_trust_policy_pass(stack, values):
    graph = build(stack, **values)
    assert check(graph).violations == []
    assert evaluate(snapshots(graph), github_oidc.POLICIES).violations == []
