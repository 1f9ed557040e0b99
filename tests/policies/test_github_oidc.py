"""iam-github-oidc-trust-scoped: a role GitHub Actions may assume names the STS audience and
one repository. Evaluated from its own module (the registry lists it once the integrator wires
it in)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.ci.github_oidc import github_trust_policy, subjects
from policies import github_oidc
from policies.offline import evaluate

PROVIDER = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"
AUD = "token.actions.githubusercontent.com:aud"
SUB = "token.actions.githubusercontent.com:sub"


def violations(snap, trust: Any) -> list[str]:
    role = snap(github_oidc.ROLE, "ci", {"assumeRolePolicy": json.dumps(trust) if isinstance(trust, dict) else trust})
    return [v.message for v in evaluate([role], github_oidc.POLICIES).violations]


def trust(condition: dict[str, Any], principal: Any = None, effect: str = "Allow") -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "GitHubActions", "Effect": effect, "Principal": principal or {"Federated": PROVIDER},
        "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}


def test_the_components_trust_policies_pass(snap):
    document = github_trust_policy(PROVIDER, subjects("acme/shop", branches=["main"], environments=["prod"],
                                                      pull_requests=True))
    assert violations(snap, document) == []


def test_exact_subjects_under_string_equals_pass_and_key_case_does_not_matter(snap):
    assert violations(snap, trust({"StringEquals": {AUD.upper(): "sts.amazonaws.com",
                                                    SUB: "repo:acme/shop:environment:prod"}})) == []


@pytest.mark.parametrize(("condition", "problem"), [
    ({"StringLike": {SUB: "repo:acme/shop:*"}}, "does not require StringEquals"),
    ({"StringEquals": {AUD: "https://github.com/acme"}, "StringLike": {SUB: "repo:acme/shop:*"}},
     "does not require StringEquals"),
    ({"StringLike": {AUD: "sts.amazonaws.com", SUB: "repo:acme/shop:*"}}, "does not require StringEquals"),
    ({"StringEquals": {AUD: "sts.amazonaws.com"}}, "does not constrain"),
    ({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringNotEquals": {SUB: "repo:evil/x:pull_request"}},
     "does not constrain"),
    ({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "*"}}, "do not name one repository"),
    ({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:acme/*"}}, "do not name one repository"),
    ({"StringEquals": {AUD: "sts.amazonaws.com"}, "StringLike": {SUB: "repo:*/shop:ref:refs/heads/main"}},
     "do not name one repository"),
    ({"StringEquals": {AUD: "sts.amazonaws.com"},
      "StringLike": {SUB: ["repo:acme/shop:pull_request", "repo:acme/sh?p:pull_request"]}},
     "do not name one repository"),
    ({}, "does not require StringEquals"),
])
def test_loose_github_trust_fails(snap, condition, problem):
    found = violations(snap, trust(condition))
    assert found and any(problem in message for message in found), found
    assert all("trust statement GitHubActions" in message for message in found)


def test_the_bare_issuer_as_principal_is_recognised(snap):
    assert violations(snap, trust({}, principal={"Federated": "token.actions.githubusercontent.com"}))


@pytest.mark.parametrize("document", [
    # Other trust: not this policy's business.
    trust({}, principal={"Service": "ec2.amazonaws.com"}),
    trust({}, principal={"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/X"}),
    # A Deny never lets anyone in.
    trust({}, effect="Deny"),
])
def test_roles_github_cannot_assume_are_ignored(snap, document):
    assert violations(snap, document) == []


def test_an_unreadable_document_is_left_to_the_iam_checks(snap):
    assert violations(snap, "not json") == []
