"""GitHub Actions' OIDC provider and the two roles this repository's workflows assume.

The workflows (.github/workflows/preview.yml, deploy.yml) exchange the job's OIDC token for
short-lived credentials: no AWS key is stored in GitHub, and the trust policy decides which
jobs may have them from the token's claims:

- ``aud`` must equal ``sts.amazonaws.com`` (what aws-actions/configure-aws-credentials asks for);
- ``sub`` must be one of the exact subjects GitHub gives this repository's jobs:
  ``repo:<owner>/<name>:ref:refs/heads/<branch>`` (a push), ``repo:<owner>/<name>:pull_request``
  (a pull request) or ``repo:<owner>/<name>:environment:<env>`` (a job in an environment).
  StringLike with patterns free of wildcards (the settings refuse them): another repository,
  a fork (its subjects name the fork), a branch not listed and a look-alike such as
  ``main-evil`` or ``<name>-fork`` all fail to match.

The **preview role** (pull requests and the listed branches) holds AWS's ReadOnlyAccess: a
preview reads the resources the program looks up and the ones a refresh compares, across every
service the platform uses, and writing its own read-only list would drift as the platform grows.
Read-only is not harmless, though: the pull request's code runs with it, so an explicit deny
takes away the data plane ReadOnlyAccess includes (objects, items, records, secrets, query
results, logs), which no preview needs.

The **deploy role** holds AdministratorAccess: ``pulumi up`` creates IAM roles and policies, KMS
key policies, EKS, networks and data stores, and a narrower policy would be a long list that
breaks at the next component. Its trust is the control: only jobs in the listed environments
(whose required reviewers approve each run) may assume it, and push jobs on the listed branches
only where ``deployFromBranches`` says so (dev, deployed on every push without approval).

One provider per issuer URL per account: a second stack in the same account passes the first's
ARN as ``retail:ci.providerArn`` instead of creating another.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.ci.settings import CiConfig
from components.common.context import StackContext
from components.common.grants import POLICY_VERSION, attach, policy_document, statement

GITHUB_ISSUER = "token.actions.githubusercontent.com"
GITHUB_ISSUER_URL = f"https://{GITHUB_ISSUER}"
#: The audience aws-actions/configure-aws-credentials requests for the token.
STS_AUDIENCE = "sts.amazonaws.com"
PREVIEW_SESSION_SECONDS = 3600
#: A first `pulumi up` of prod (EKS, Aurora, a global datastore) can outlast an hour; the deploy
#: workflow asks for this much (.github/workflows/deploy.yml, role-duration-seconds).
DEPLOY_SESSION_SECONDS = 2 * 3600

#: Data-plane reads that AWS's ReadOnlyAccess includes and no preview needs: the preview role is
#: denied them explicitly, so a pull request's code cannot read customer data with it.
DATA_READ_ACTIONS = (
    "athena:GetQueryResults",
    "athena:GetQueryResultsStream",
    "dynamodb:BatchGetItem",
    "dynamodb:GetItem",
    "dynamodb:GetRecords",
    "dynamodb:PartiQLSelect",
    "dynamodb:Query",
    "dynamodb:Scan",
    "kinesis:GetRecords",
    "kinesis:SubscribeToShard",
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:StartQuery",
    "s3:GetObject",
    "s3:GetObjectVersion",
    "secretsmanager:GetSecretValue",
)


def subjects(repository: str, *, branches: Sequence[str] = (), environments: Sequence[str] = (),
             pull_requests: bool = False) -> list[str]:
    """The exact ``sub`` claims GitHub gives this repository's jobs that may assume a role."""
    found = [f"repo:{repository}:ref:refs/heads/{branch}" for branch in branches]
    found += [f"repo:{repository}:environment:{environment}" for environment in environments]
    if pull_requests:
        found.append(f"repo:{repository}:pull_request")
    if not found:
        raise ValueError("a GitHub trust policy needs at least one subject")
    if any(c in s for s in found for c in "*?"):
        raise ValueError(f"subjects must be exact, without wildcards: {found}")
    return found


def _repository(settings: CiConfig) -> str:
    if settings.repository is None:
        raise ValueError("retail:ci.repository is not set: the roles would trust no repository")
    return settings.repository


def preview_subjects(settings: CiConfig) -> list[str]:
    """Who may preview: pull requests (when allowed) and pushes to the listed branches."""
    return subjects(_repository(settings), branches=settings.branches, pull_requests=settings.pull_requests)


def deploy_subjects(settings: CiConfig) -> list[str]:
    """Who may deploy: jobs in the listed environments; push jobs on the listed branches only with
    ``deployFromBranches`` (dev), or the main branch's jobs would bypass the environments' reviewers."""
    return subjects(_repository(settings), branches=settings.branches if settings.deploy_from_branches else (),
                    environments=settings.environments)


def github_trust_policy(provider_arn: str, allowed_subjects: Sequence[str]) -> dict[str, Any]:
    """A role that only GitHub tokens for ``sts.amazonaws.com`` with one of ``allowed_subjects``
    may assume (``sts:AssumeRoleWithWebIdentity``: the only way a web identity gets a role)."""
    if isinstance(allowed_subjects, str) or not allowed_subjects:
        raise ValueError("allowed_subjects must be a non-empty list of subjects")
    return {"Version": POLICY_VERSION, "Statement": [{
        "Sid": "GitHubActions",
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{GITHUB_ISSUER}:aud": STS_AUDIENCE},
            "StringLike": {f"{GITHUB_ISSUER}:sub": list(allowed_subjects)},
        },
    }]}


def preview_data_deny_policy() -> dict[str, Any]:
    """The explicit deny of data-plane reads the preview role carries beside ReadOnlyAccess."""
    return policy_document(statement("NoDataReads", DATA_READ_ACTIONS, ["*"], effect="Deny"))


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


@dataclass(frozen=True)
class GithubOidcArgs:
    settings: CiConfig
    """``retail:ci``; the component is built only when it is enabled."""


class GithubOidc(pulumi.ComponentResource):
    """The GitHub OIDC provider (or an existing one), a read-only preview role and a deploy role."""

    provider_arn: pulumi.Output[str]
    preview_role: aws.iam.Role
    deploy_role: aws.iam.Role

    def __init__(self, name: str, context: StackContext, args: GithubOidcArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("retail:ci:GithubOidc", name, None, opts)
        settings = args.settings
        if not settings.enabled or settings.repository is None:
            raise ValueError("GithubOidc is built only for an enabled retail:ci with a repository")
        conv = context.conventions
        child = pulumi.ResourceOptions(parent=self)

        if settings.provider_arn is None:
            provider_name = conv.physical_name("github-oidc")
            # No thumbprint: for GitHub, IAM validates the issuer's certificate against its own
            # trusted root CAs and ignores any thumbprint given (pulumi-aws v7 makes it optional).
            provider = aws.iam.OpenIdConnectProvider(
                f"{name}-provider",
                url=GITHUB_ISSUER_URL,
                client_id_lists=[STS_AUDIENCE],
                tags=conv.tags(provider_name),
                opts=child,
            )
            self.provider_arn = provider.arn
        else:
            self.provider_arn = pulumi.Output.from_input(settings.provider_arn)

        repository = settings.repository

        def role(kind: str, allowed: list[str], seconds: int, description: str) -> aws.iam.Role:
            role_name = conv.physical_name("ci", kind, max_length=64)
            return aws.iam.Role(
                f"{name}-{kind}",
                name=role_name,
                description=description,
                assume_role_policy=self.provider_arn.apply(
                    lambda arn: json.dumps(github_trust_policy(arn, allowed), sort_keys=True)),
                max_session_duration=seconds,
                tags=conv.tags(role_name, {"github-repository": repository}),
                opts=child,
            )

        self.preview_role = role("preview", preview_subjects(settings), PREVIEW_SESSION_SECONDS,
                                 f"pulumi preview from GitHub Actions of {repository} (read-only, no data reads)")
        aws.iam.RolePolicyAttachment(
            f"{name}-preview-read-only",
            role=self.preview_role.name,
            policy_arn=pulumi.Output.from_input(context.partition).apply(
                lambda partition: managed_policy_arn(partition, "ReadOnlyAccess")),
            opts=pulumi.ResourceOptions(parent=self.preview_role),
        )
        attach(f"{name}-preview-no-data-reads", self.preview_role, preview_data_deny_policy(),
               parent=self.preview_role)

        self.deploy_role = role("deploy", deploy_subjects(settings), DEPLOY_SESSION_SECONDS,
                                f"pulumi up from GitHub Actions of {repository} (approved environments)")
        aws.iam.RolePolicyAttachment(
            f"{name}-deploy-administrator",
            role=self.deploy_role.name,
            policy_arn=pulumi.Output.from_input(context.partition).apply(
                lambda partition: managed_policy_arn(partition, "AdministratorAccess")),
            opts=pulumi.ResourceOptions(parent=self.deploy_role),
        )

        self.register_outputs({
            "providerArn": self.provider_arn,
            "previewRoleArn": self.preview_role.arn,
            "deployRoleArn": self.deploy_role.arn,
        })
