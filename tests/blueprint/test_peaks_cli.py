"""``python -m blueprint peaks``: the calendar per layer, its JSON, and a refused peak."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from blueprint.__main__ import EXIT_BAD_INPUT, EXIT_OK, main
from blueprint.synth import REPO_ROOT


def _project(tmp_path: Path, name: str, config: dict) -> Path:
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    project["main"] = str(REPO_ROOT / "__main__.py")
    (tmp_path / "Pulumi.yaml").write_text(yaml.safe_dump(project))
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump({"config": config}))
    return tmp_path


def test_peaks_prod_lists_every_layer_raised_before_each_event(capsys):
    assert main(["peaks", "prod"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "black-friday: 2026-11-27T00:00Z to 2026-11-30T23:59Z, lead 4h (needed 2h, slowest: alb)" in out
    assert "warm at 2026-11-26T20:00Z, released at 2026-12-01T00:59Z" in out
    assert "[pods] storefront HPA minReplicas (3000 rps): 6 -> 60, ready 2026-11-26T20:02:20Z" in out
    assert "[nodes] Karpenter headroom" in out
    assert "[aurora-acu] Aurora Serverless v2 minimum ACU: 2 -> 20" in out
    assert "[alb] ALB LCU reservation: none -> 277, ready 2026-11-26T22:00Z" in out
    assert "[dynamodb] DynamoDB sessions" in out
    assert "unannounced, the same 10x surge: capacity doubles in 5m (slowest: alb)" in out
    assert "summer-sale: 2027-07-01T06:00Z" in out


def test_peaks_json(tmp_path, capsys):
    path = tmp_path / "peaks.json"
    assert main(["peaks", "prod", "--json", str(path)]) == EXIT_OK
    report = json.loads(path.read_text())
    friday = next(e for e in report["events"] if e["name"] == "black-friday")
    assert friday["warmAt"] == "2026-11-26T20:00Z" and friday["releaseAt"] == "2026-12-01T00:59Z"
    rows = {row["what"]: row for row in friday["raises"]}
    assert rows["Aurora Serverless v2 minimum ACU"]["from"] == "2"
    assert rows["Aurora Serverless v2 minimum ACU"]["to"] == "20"
    # Every raised layer is in place before the start.
    assert all(row["readyAt"] is None or row["readyAt"] < friday["start"] for row in friday["raises"])
    assert friday["surge"]["doublingSeconds"] == 300
    assert "Kubernetes docs" in report["timings"]["hpa_sync"]["source"]


def test_peaks_of_a_stack_without_events(capsys):
    assert main(["peaks", "dev"]) == EXIT_OK
    assert "no peak events" in capsys.readouterr().out


def test_a_peak_the_bounds_cannot_carry_is_refused(tmp_path, capsys):
    config = yaml.safe_load((REPO_ROOT / "stacks" / "Pulumi.prod.yaml").read_text())["config"]
    config["retail:peakEvents"] = [{"name": "mega", "start": "2026-12-01T00:00Z", "end": "2026-12-02T00:00Z",
                                    "leadTime": "4h", "multiplier": 50}]
    project = _project(tmp_path, "prod", config)
    assert main(["--project", str(project), "peaks", "prod"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    # x50 of checkout's 150 rps at 50 a replica: 150 replicas, over maxReplicas 60.
    assert "retail:services[3].maxReplicas: event 'mega' needs 150 replicas of 'checkout'" in err
    assert "raise it to at least 150" in err


def test_peaks_of_a_missing_stack(capsys):
    assert main(["peaks", "nope"]) == EXIT_BAD_INPUT
    assert "error" in capsys.readouterr().err
