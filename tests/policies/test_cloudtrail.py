"""CloudTrail.1/.2/.4/.5, evaluated from their own module (the registry lists them once the
integrator wires them in)."""

from __future__ import annotations

import pytest

from policies import cloudtrail
from policies.offline import evaluate

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
GROUP = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/cloudtrail/retail-dev-trail:*"
ROLE = "arn:aws:iam::111122223333:role/trail-logs"
MANAGEMENT = {"name": "management-events", "fieldSelectors": [{"field": "eventCategory", "equals": ["Management"]}]}


def trail(**overrides):
    props = {"name": "retail-dev-trail", "s3BucketName": "retail-dev-audit", "isMultiRegionTrail": True,
             "includeGlobalServiceEvents": True, "enableLogFileValidation": True, "enableLogging": True,
             "kmsKeyId": KEY, "cloudWatchLogsGroupArn": GROUP, "cloudWatchLogsRoleArn": ROLE,
             "advancedEventSelectors": [MANAGEMENT]}
    props.update(overrides)
    return {k: v for k, v in props.items() if v is not None}


def messages(snap, props):
    return [v.message for v in evaluate([snap(cloudtrail.TRAIL, "trail", props)], cloudtrail.POLICIES).violations]


def test_a_compliant_trail_passes(snap):
    assert messages(snap, trail()) == []


def test_no_selectors_means_every_management_event(snap):
    assert messages(snap, trail(advancedEventSelectors=None)) == []


@pytest.mark.parametrize("overrides, expected", [
    ({"isMultiRegionTrail": False}, "not multi-Region"),
    ({"isMultiRegionTrail": None}, "not multi-Region"),
    ({"includeGlobalServiceEvents": False}, "global service events"),
    ({"enableLogging": False}, "logging is off"),
    ({"advancedEventSelectors": [{"name": "data", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Data"]}, {"field": "resources.type", "equals": ["AWS::S3::Object"]}]}]},
     "no advanced event selector records management events"),
    ({"advancedEventSelectors": [{"name": "writes", "fieldSelectors": [
        {"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["false"]}]}]},
     "filter on readOnly"),
    ({"advancedEventSelectors": None, "eventSelectors": [{"readWriteType": "WriteOnly"}]},
     "no event selector records all"),
    ({"kmsKeyId": None}, "CloudTrail.2"),
    ({"kmsKeyId": "arn:aws:kms:eu-west-1:111122223333:alias/aws/cloudtrail"}, "CloudTrail.2"),
    ({"enableLogFileValidation": None}, "CloudTrail.4"),
    ({"cloudWatchLogsRoleArn": None}, "CloudTrail.5"),
    ({"cloudWatchLogsGroupArn": None}, "cloudWatchLogsGroupArn"),
])
def test_each_gap_is_reported(snap, overrides, expected):
    [message] = messages(snap, trail(**overrides))
    assert expected in message
