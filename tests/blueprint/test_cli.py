"""``python -m blueprint``: what a person sees, and the exit codes CI relies on."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from blueprint import __version__
from blueprint.__main__ import EXIT_BAD_INPUT, EXIT_OK, EXIT_POLICY_FAILED, _parser, main
from blueprint.graph import load_schema
from blueprint.synth import REPO_ROOT


def project_with_stack(tmp_path: Path, name: str, config: dict) -> Path:
    """A project directory that runs this checkout's program with one extra stack file."""
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    project["main"] = str(REPO_ROOT / "__main__.py")
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def prod_config(**changes) -> dict:
    config = yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    config.update(changes)
    return config


def test_plan_prints_the_tree_counts_and_policy_results(capsys):
    assert main(["plan", "prod"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith("Plan for stack prod (project retail, region eu-west-1):")
    assert "+ pulumi:pulumi:Stack  retail-prod" in out
    assert "`- + retail:platform:RetailPlatform  retail" in out
    # Type tokens as the Pulumi CLI shows them: aws:kms/key:Key is aws:kms:Key.
    assert "+ aws:kms:Key  keys-data  protected" in out
    assert "Resources by type" in out and "\naws:kms:Key " in out
    summary = out[out.index("\nSummary: stack prod"):]
    assert re.search(r"\n  regions +eu-west-1 \d+ \(primary\), ", summary)
    assert re.search(r"\n  policies +\d+ passed, 0 failed", summary)
    # Every policy passed: counted in the summary, not listed one by one.
    assert "PASS" not in out
    assert "\x1b[" not in out  # captured, not a terminal: no colour codes


def test_plan_lists_every_policy_on_request(capsys):
    assert main(["plan", "dev", "--policies"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "  PASS  vpc-flow-logs" in out
    assert out.count("  PASS  ") == int(re.search(r"\n  policies +(\d+) passed", out).group(1))


def test_plan_writes_the_graph_as_json(tmp_path, capsys):
    target = tmp_path / "out.json"
    assert main(["plan", "prod", "--json", str(target)]) == EXIT_OK
    document = json.loads(target.read_text())
    jsonschema.validate(document, load_schema())
    assert document["stack"] == "prod"
    assert f"wrote the resource graph to {target}" in capsys.readouterr().out


def test_a_mistyped_key_fails_with_the_key_and_no_traceback(tmp_path, capsys):
    project = project_with_stack(tmp_path, "typo", prod_config(**{"retail:ownr": "x"}))
    assert main(["--project", str(project), "plan", "typo"]) == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    assert "retail:ownr: unknown key" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert "Plan for stack" not in captured.out


def test_a_failing_mandatory_policy_gives_a_non_zero_exit(tmp_path, capsys, monkeypatch):
    # Flow logs kept 30 days in a stack that says prod is refused by config validation
    # already; the pack is the second line of defence, so break the pack's input directly.
    from blueprint import checks
    from policies import offline

    real_evaluate = offline.evaluate

    def evaluate_without_flow_logs(snapshots, *args, **kwargs):
        kept = [s for s in snapshots if s.type != "aws:ec2/flowLog:FlowLog"]
        return real_evaluate(kept, *args, **kwargs)

    monkeypatch.setattr(checks, "evaluate", evaluate_without_flow_logs)
    assert main(["plan", "dev"]) == EXIT_POLICY_FAILED
    out = capsys.readouterr().out
    assert "FAIL  vpc-flow-logs (mandatory, 1 violation)" in out
    # The summary says so too, and sends the reader back to fix it before a real preview.
    summary = out[out.index("\nSummary: stack dev"):]
    assert re.search(r"\n  policies +\d+ passed, 1 failed", summary)
    assert "fix the failed policies above" in summary
    assert "pulumi preview" not in summary


def test_an_unknown_stack_lists_the_known_ones(capsys):
    assert main(["plan", "qa"]) == EXIT_BAD_INPUT
    assert "stacks: dev, prod, staging" in capsys.readouterr().err


def test_stacks_lists_the_stack_files(capsys):
    assert main(["stacks"]) == EXIT_OK
    assert capsys.readouterr().out.split() == ["dev", "prod", "staging"]


@pytest.mark.parametrize("argv, code", [(["plan", "dev"], EXIT_OK), (["plan", "nope"], EXIT_BAD_INPUT)])
def test_the_module_runs_as_a_command(argv, code):
    # One real process per outcome: exit codes and streams as a shell or CI sees them.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("COLUMNS", None)
    result = subprocess.run([sys.executable, "-m", "blueprint", *argv], cwd=REPO_ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    # Piped: no spinner, no colour, no cursor movement, and 80 columns at most.
    for stream in (result.stdout, result.stderr):
        assert "\x1b" not in stream and "\r" not in stream
        assert not any("\u2800" <= char <= "\u28ff" for char in stream)  # rich's spinner frames
        assert stream.isascii()
        assert max((len(line) for line in stream.splitlines()), default=0) <= 80


def test_help_lists_the_exit_codes_without_markup(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes of plan:\n  0  the plan is clean" in out
    assert "  1  a mandatory policy failed" in out and "  2  the stack config is invalid" in out
    assert "exit codes of diff:\n  0  no cloud resource" in out
    assert not re.search(r"\[/?(bold|red|green|yellow|dim)", out)
    assert "``" not in out


def test_plan_help_describes_every_option(capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    out = capsys.readouterr().out
    commands = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    plan = commands.choices["plan"]
    for action in plan._actions:
        assert action.help, action.option_strings or action.dest
        for option in action.option_strings:
            assert option in out
    assert "exit codes:" in out


def test_version_comes_from_the_package(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"python -m blueprint {__version__}"
