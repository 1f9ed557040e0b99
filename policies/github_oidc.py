"""Roles that GitHub Actions may assume: scoped to a repository and to STS as the audience.

From AWS's IAM User Guide ("Creating a role for web identity or OIDC federation", GitHub
section) and GitHub's "Configuring OpenID Connect in Amazon Web Services": a role trusting
``token.actions.githubusercontent.com`` must check the ``aud`` claim (``sts.amazonaws.com``) and
the ``sub`` claim, and the ``sub`` pattern must name one repository: without it, or with a
wildcard in the repository, any GitHub workflow, anyone's, could assume the role.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import as_list, known, mapping, policy_document, resource_policy, statement_id, statements

ROLE = "aws:iam/role:Role"
ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
#: A subject that names one repository: ``repo:<owner>/<name>:`` with no wildcard in either.
_ONE_REPOSITORY = re.compile(r"^repo:[A-Za-z0-9-]+/[A-Za-z0-9._-]+:.+$")


def _trusts_github(statement: Mapping[str, Any]) -> bool:
    federated = as_list(mapping(statement.get("Principal")).get("Federated"))
    return statement.get("Effect") == "Allow" and any(
        isinstance(p, str) and (p == ISSUER or p.endswith(f":oidc-provider/{ISSUER}")) for p in federated)


def _condition_values(statement: Mapping[str, Any], operators: tuple[str, ...], key: str) -> list[Any] | None:
    """The values the statement requires of ``key`` under one of ``operators`` (condition keys
    ignore case), or None when it does not constrain the key with them."""
    condition = mapping(statement.get("Condition"))
    for operator in operators:
        for name, values in mapping(condition.get(operator)).items():
            if name.lower() == key.lower():
                return as_list(values)
    return None


def _problems(statement: Mapping[str, Any]) -> list[str]:
    problems = []
    audiences = _condition_values(statement, ("StringEquals",), f"{ISSUER}:aud")
    if audiences != [AUDIENCE]:
        problems.append(f"does not require StringEquals {ISSUER}:aud = {AUDIENCE}")
    subjects = _condition_values(statement, ("StringEquals", "StringLike"), f"{ISSUER}:sub")
    if not subjects:
        problems.append(f"does not constrain {ISSUER}:sub with StringEquals or StringLike")
    else:
        loose = [s for s in subjects if not (isinstance(s, str) and _ONE_REPOSITORY.match(s))]
        if loose:
            problems.append(f"allows subjects that do not name one repository: {loose}")
    return problems


def _github_trust_scoped(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    value = known(args.props, "assumeRolePolicy")
    if value is None:
        return  # unknown until the provider exists (preview): checked at update time
    document, _ = policy_document(value)
    if document is None:
        return  # iam-policy checks report an unreadable document
    for index, statement in enumerate(statements(document)):
        if not _trusts_github(statement):
            continue
        for problem in _problems(statement):
            report_violation(
                f"trust statement {statement_id(statement, index)} lets GitHub Actions assume the role but "
                f"{problem}; require aud = {AUDIENCE} and sub patterns such as "
                "repo:<owner>/<name>:ref:refs/heads/main (components/ci/github_oidc.py builds them).",
                None,
            )


POLICIES = [
    resource_policy(
        "iam-github-oidc-trust-scoped",
        "CI.1: IAM roles that trust GitHub Actions' OIDC provider require the STS audience and a subject "
        "naming one repository (AWS IAM User Guide, GitHub OIDC guidance)",
        (ROLE,),
        _github_trust_scoped,
    ),
]
