"""Config.1: the recorder records everything with a role, and has a channel and an enabled status."""

from __future__ import annotations

import pytest

from policies import config
from policies.offline import evaluate

ROLE = "arn:aws:iam::111122223333:role/config"


def recorder(snap, name="rec", region="eu-west-1", **overrides):
    props = {"name": f"retail-{name}", "roleArn": ROLE, "region": region,
             "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True}}
    props.update(overrides)
    return snap(config.RECORDER, name, {k: v for k, v in props.items() if v is not None})


def channel(snap, region="eu-west-1"):
    return snap(config.DELIVERY_CHANNEL, f"channel-{region}", {"s3BucketName": "audit", "region": region})


def status(snap, rec, enabled=True, linked=True):
    return snap(config.RECORDER_STATUS, f"{rec.name}-status",
                {"name": rec.props["name"] if linked else "someone-else", "isEnabled": enabled,
                 "region": rec.props["region"]},
                property_dependencies={"name": (rec.urn,)} if linked else {})


def messages(snapshots):
    return [v.message for v in evaluate(snapshots, config.POLICIES).violations]


def test_a_recorder_that_records_everything_delivers_and_runs_passes(snap):
    rec = recorder(snap)
    assert messages([rec, channel(snap), status(snap, rec)]) == []


def test_no_recorder_is_not_applicable(snap):
    assert messages([channel(snap)]) == []


@pytest.mark.parametrize("overrides, expected", [
    ({"roleArn": None}, "has no role"),
    ({"recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::S3::Bucket"]}}, "chosen list"),
    ({"recordingGroup": {"allSupported": True, "exclusionByResourceTypes": {"resourceTypes": ["AWS::IAM::Role"]}}},
     "excludes resource types"),
])
def test_a_recorder_that_misses_types_or_a_role_fails(snap, overrides, expected):
    rec = recorder(snap, **overrides)
    [message] = messages([rec, channel(snap), status(snap, rec)])
    assert expected in message


def test_a_recorder_without_a_channel_in_its_region_fails(snap):
    rec = recorder(snap)
    [message] = messages([rec, channel(snap, region="eu-central-1"), status(snap, rec)])
    assert "no delivery channel in its region" in message


def test_a_recorder_without_a_status_or_stopped_fails(snap):
    rec = recorder(snap)
    [missing] = messages([rec, channel(snap), status(snap, rec, linked=False)])
    assert "no aws.cfg.RecorderStatus" in missing
    [stopped] = messages([rec, channel(snap), status(snap, rec, enabled=False)])
    assert "is_enabled=True" in stopped
