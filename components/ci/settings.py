"""Settings of the CI layer: ``retail:ci``, the GitHub repository whose workflows may assume this
stack's preview and deploy roles through GitHub's OIDC token (components/ci/github_oidc.py)."""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from components.common.settings import Bool, SettingsModel

# GitHub's rules: an owner is letters, digits and single hyphens; a repository name letters,
# digits, '.', '_' and '-'. Wildcards are refused everywhere: the names become the exact
# patterns of the trust policy's `sub` condition, and a '*' there would widen who may assume.
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<![/.])$")
_ENVIRONMENT = re.compile(r"^[A-Za-z0-9._-]{1,255}$")


class CiConfig(SettingsModel):
    enabled: Bool = Field(default=False, description="Build the GitHub OIDC provider and the CI roles in this "
                          "stack's account.")
    repository: str | None = Field(default=None, description="The GitHub repository 'owner/name' whose workflows "
                                   "may assume the roles; required when enabled.")
    branches: list[str] = Field(default_factory=lambda: ["main"], description="Branches whose pushes may "
                                "assume the preview role, and the deploy role where deployFromBranches is true.")
    environments: list[str] = Field(default_factory=lambda: ["staging", "prod"], description="GitHub "
                                    "environments whose jobs may assume the deploy role (give them required "
                                    "reviewers).")
    deploy_from_branches: Bool = Field(default=False, description="Whether a push job on the listed branches, "
                                       "outside any environment, may assume the deploy role: true for dev, whose "
                                       "deploy needs no approval; false keeps every deploy behind an environment.")
    pull_requests: Bool = Field(default=True, description="Whether pull_request workflows of the repository may "
                                "assume the read-only preview role.")
    provider_arn: str | None = Field(default=None, description="An existing GitHub OIDC provider of the account "
                                     "to use instead of creating one (an account holds one per issuer URL).")

    @field_validator("repository")
    @classmethod
    def _repository_shape(cls, value: str | None) -> str | None:
        if value is not None and not _REPOSITORY.match(value):
            raise ValueError(f"{value!r} is not a GitHub repository: write it as 'owner/name' (letters, digits, "
                             "'-', and in the name '.', '_'), without wildcards or a URL")
        return value

    @field_validator("branches")
    @classmethod
    def _branch_names(cls, value: list[str]) -> list[str]:
        bad = [branch for branch in value if not _BRANCH.match(branch) or branch.startswith("refs/")]
        if bad:
            raise ValueError(f"{bad} are not branch names: give plain names such as 'main' or 'release/2026' "
                             "(no 'refs/heads/' prefix, no wildcards)")
        if len(set(value)) != len(value):
            raise ValueError("a branch is listed twice")
        return value

    @field_validator("environments")
    @classmethod
    def _environment_names(cls, value: list[str]) -> list[str]:
        bad = [env for env in value if not _ENVIRONMENT.match(env)]
        if bad:
            raise ValueError(f"{bad} are not GitHub environment names (letters, digits, '.', '_', '-'; no "
                             "wildcards)")
        if len(set(value)) != len(value):
            raise ValueError("an environment is listed twice")
        return value

    @field_validator("provider_arn")
    @classmethod
    def _provider_arn_shape(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(
                r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com", value):
            raise ValueError(f"{value!r} is not the ARN of a GitHub OIDC provider (arn:aws:iam::<account>:"
                             "oidc-provider/token.actions.githubusercontent.com)")
        return value

    @model_validator(mode="after")
    def _repository_when_enabled(self) -> CiConfig:
        if self.enabled and self.repository is None:
            raise ValueError("retail:ci.repository is required when retail:ci.enabled is true: set it to the "
                             "GitHub repository 'owner/name' whose workflows preview and deploy this stack")
        if self.enabled and not (self.environments or (self.deploy_from_branches and self.branches)):
            raise ValueError("retail:ci leaves the deploy role with no job that may assume it: list "
                             "`environments` (e.g. [prod]), or set `deployFromBranches: true` with `branches`")
        if self.enabled and not (self.branches or self.pull_requests):
            raise ValueError("retail:ci leaves the preview role with no job that may assume it: list "
                             "`branches` or set `pullRequests: true`")
        return self
