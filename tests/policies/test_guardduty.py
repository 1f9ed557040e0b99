"""GuardDuty.1 and the protection features (.5/.7/.8/.9/.10)."""

from __future__ import annotations

import pytest

from policies import guardduty
from policies.offline import evaluate


def detector(snap, tags, **props):
    return snap(guardduty.DETECTOR, "detector", {"enable": True, "tags": tags(), **props})


def features(snap, target, skip=(), status="ENABLED", agent="ENABLED"):
    made = []
    for name in guardduty.REQUIRED_FEATURES:
        if name in skip:
            continue
        props: dict[str, object] = {"detectorId": "d-1", "name": name, "status": status}
        if name == "EKS_RUNTIME_MONITORING":
            props["additionalConfigurations"] = [{"name": "EKS_ADDON_MANAGEMENT", "status": agent}]
        made.append(snap(guardduty.FEATURE, f"{target.name}-{name}", props,
                         property_dependencies={"detectorId": (target.urn,)}))
    return made


def messages(snapshots):
    return [v.message for v in evaluate(snapshots, guardduty.POLICIES).violations]


def test_an_enabled_detector_with_every_feature_passes(snap, tags):
    target = detector(snap, tags)
    assert messages([target, *features(snap, target)]) == []


def test_a_disabled_detector_fails(snap, tags):
    target = detector(snap, tags, enable=False)
    [message] = messages([target, *features(snap, target)])
    assert message.startswith("GuardDuty.1")


@pytest.mark.parametrize("missing, control", [
    ("EKS_AUDIT_LOGS", "GuardDuty.5"), ("EKS_RUNTIME_MONITORING", "GuardDuty.7"),
    ("EBS_MALWARE_PROTECTION", "GuardDuty.8"), ("RDS_LOGIN_EVENTS", "GuardDuty.9"),
    ("S3_DATA_EVENTS", "GuardDuty.10"),
])
def test_each_missing_feature_is_reported_with_its_control(snap, tags, missing, control):
    target = detector(snap, tags)
    [message] = messages([target, *features(snap, target, skip=(missing,))])
    assert message.startswith(f"{control}:") and missing in message


def test_disabled_features_and_an_unmanaged_runtime_agent_fail(snap, tags):
    target = detector(snap, tags)
    assert len(messages([target, *features(snap, target, status="DISABLED")])) == 5
    [message] = messages([target, *features(snap, target, agent="DISABLED")])
    assert "EKS_ADDON_MANAGEMENT" in message


def test_features_of_another_detector_do_not_count(snap, tags):
    target, other = detector(snap, tags), snap(guardduty.DETECTOR, "other", {"enable": True})
    assert len(messages([target, other, *features(snap, other)])) == 5
