"""The pack's files: a registry that only lists the policies, one module per service that
stays small and loads without pydantic or the AWS SDK, an inert __main__.py, mandatory
uniquely named policies, a documented table, and a PulumiPolicy.yaml the CLI can run."""

from __future__ import annotations

import ast
import json
import re
import selectors
import subprocess
import sys

import pytest
import yaml
from pulumi_policy import EnforcementLevel

from policies import registry
from policies.registry import POLICIES

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

#: Longest a pack module may grow: past this, split it by the resource types it checks.
MAX_MODULE_LINES = 450
#: Pack modules that hold no policies: the shared helpers, the entry point, the registry
#: itself, the offline evaluator and the control table (what each policy stands for).
NOT_RULE_MODULES = {"__init__", "__main__", "_helpers", "_taggable", "controls", "offline", "registry"}
#: What the pack must never load: the stack-config schema (and so pydantic) and the AWS SDK
#: (``_taggable`` imports pulumi_aws modules lazily, when a check asks about a type).
FORBIDDEN_MODULES = ("pydantic", "components.config", "pulumi_aws")


def pack_modules(repo_root):
    return sorted((repo_root / "policies").glob("*.py"))


def rule_modules(repo_root):
    return sorted(p.stem for p in pack_modules(repo_root) if p.stem not in NOT_RULE_MODULES)


# --- The registry and the modules -----------------------------------------------------------


def test_the_registry_only_lists_the_policies(repo_root):
    tree = ast.parse((repo_root / "policies" / "registry.py").read_text())
    body = [node for node in tree.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    *imports, assignment = body
    assert all(isinstance(node, (ast.Import, ast.ImportFrom)) for node in imports)
    assert isinstance(assignment, ast.AnnAssign) and ast.unparse(assignment.target) == "POLICIES"
    entries = assignment.value.elts
    assert all(isinstance(e, ast.Starred) and ast.unparse(e.value).endswith(".POLICIES") for e in entries)
    listed = [ast.unparse(e.value).removesuffix(".POLICIES") for e in entries]
    assert sorted(listed) == rule_modules(repo_root)
    assert len(listed) == len(set(listed))


def test_every_rule_module_policy_is_in_the_registry(repo_root):
    registered = [id(policy) for policy in POLICIES]
    for name in rule_modules(repo_root):
        module = getattr(registry, name)
        assert module.POLICIES, name
        assert all(id(policy) in registered for policy in module.POLICIES), name
    assert len(registered) == sum(len(getattr(registry, n).POLICIES) for n in rule_modules(repo_root))


def test_no_pack_module_is_over_the_line_limit(repo_root):
    lengths = {p.name: len(p.read_text().splitlines()) for p in pack_modules(repo_root)}
    assert {name: n for name, n in lengths.items() if n > MAX_MODULE_LINES} == {}


def test_every_pack_module_has_its_test_module(repo_root):
    tests = repo_root / "tests" / "policies"
    expected = {f"test_{p.stem.lstrip('_')}.py" for p in pack_modules(repo_root)
                if p.stem not in ("__init__", "__main__")}
    assert sorted(name for name in expected if not (tests / name).exists()) == []


@pytest.mark.parametrize("module", ["policies.registry", "policies.offline", "policies.controls"])
def test_the_pack_loads_without_pydantic_the_config_or_the_aws_sdk(repo_root, module):
    # A fresh interpreter: this one has long loaded all three for other tests.
    code = (f"import json, sys, {module}; "
            "print(json.dumps(sorted(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], cwd=repo_root, capture_output=True, text=True,
                            check=True)
    loaded = json.loads(result.stdout)
    assert module in loaded
    assert [m for m in loaded if any(m == f or m.startswith(f"{f}.") for f in FORBIDDEN_MODULES)] == []


# --- __main__.py ----------------------------------------------------------------------------


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
