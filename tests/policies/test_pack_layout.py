"""The pack's files: an inert __main__.py, mandatory uniquely named policies, a documented
table, and a PulumiPolicy.yaml the CLI can run."""

from __future__ import annotations

import ast
import re
import selectors
import subprocess
import sys

import pytest
import yaml
from pulumi_policy import EnforcementLevel

from policies.registry import POLICIES

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@pytest.fixture
def main_tree(repo_root):
    return ast.parse((repo_root / "policies" / "__main__.py").read_text())


def test_main_defines_nothing(main_tree):
    definitions = [n for n in ast.walk(main_tree)
                   if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                     ast.Lambda))]
    assert definitions == []


def test_main_only_constructs_the_pack_from_the_registry(main_tree):
    imports = {(n.module, a.name) for n in ast.walk(main_tree) if isinstance(n, ast.ImportFrom)
               for a in n.names}
    assert ("policies.registry", "POLICIES") in imports
    calls = [n for n in ast.walk(main_tree) if isinstance(n, ast.Call)
             and isinstance(n.func, ast.Name) and n.func.id == "PolicyPack"]
    [call] = calls
    keywords = {k.arg: k.value for k in call.keywords}
    assert set(keywords) == {"name", "enforcement_level", "policies"}
    assert ast.literal_eval(keywords["name"]) == "retail-baseline"
    assert ast.unparse(keywords["enforcement_level"]) == "EnforcementLevel.MANDATORY"
    assert ast.unparse(keywords["policies"]) == "POLICIES"
    # The pack is the last statement: nothing runs after the server starts blocking.
    assert isinstance(main_tree.body[-1], ast.Expr) and main_tree.body[-1].value is call


def test_main_puts_the_repo_root_on_the_path_before_importing_the_pack(main_tree):
    body = [ast.unparse(s) for s in main_tree.body]
    path_insert = next(i for i, s in enumerate(body) if s.startswith("sys.path.insert(0"))
    registry_import = body.index("from policies.registry import POLICIES")
    assert "parent.parent" in body[path_insert]
    assert path_insert < registry_import


def test_main_starts_the_policy_server_as_the_cli_runs_it(repo_root):
    # The real CLI runs `python __main__.py` from policies/: the pack must import from there
    # and announce its gRPC port on stdout.
    process = subprocess.Popen([sys.executable, "__main__.py"], cwd=repo_root / "policies",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=60)
        line = process.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            process.kill()
            pytest.fail(f"no port announced; stderr: {process.communicate()[1].decode()}")
    finally:
        process.kill()
        process.wait()


def test_every_policy_is_mandatory_and_uniquely_kebab_named():
    names = [p.name for p in POLICIES]
    assert len(names) == len(set(names))
    assert all(KEBAB.match(name) for name in names), names
    assert all(p.enforcement_level is EnforcementLevel.MANDATORY for p in POLICIES)


def readme_table(repo_root) -> dict[str, list[str]]:
    rows = {}
    for line in (repo_root / "policies" / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        match = re.fullmatch(r"`([a-z0-9-]+)`", cells[0]) if line.startswith("|") else None
        if match:
            rows[match.group(1)] = cells[1:]
    return rows


def test_readme_documents_exactly_the_pack(repo_root):
    assert set(readme_table(repo_root)) == {p.name for p in POLICIES}


def test_descriptions_start_with_the_documented_control_id(repo_root):
    table = readme_table(repo_root)
    for policy in POLICIES:
        control_id, _what, enforcement = table[policy.name]
        assert policy.description.startswith(f"{control_id}: "), policy.name
        assert enforcement == "mandatory"


def test_policy_project_file_runs_python_in_the_project_venv(repo_root):
    project = yaml.safe_load((repo_root / "policies" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert project["description"]
    requirements = (repo_root / "policies" / "requirements.txt").read_text()
    assert "pulumi-policy>=1.13,<2" in requirements
    assert "pulumi-aws>=7,<8" in requirements
