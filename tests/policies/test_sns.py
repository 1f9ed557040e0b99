"""SNS.1: topics encrypted with a customer-managed key. Evaluated from its own module (the
registry lists it once the integrator wires it in)."""

from __future__ import annotations

import pytest

from policies import sns
from policies.offline import evaluate

KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def violations(resource):
    return [v.message for v in evaluate([resource], sns.POLICIES).violations]


def test_topic_with_our_key_passes(snap, tags):
    assert violations(snap(sns.TOPIC, "alarms", {"kmsMasterKeyId": KEY, "tags": tags()})) == []


@pytest.mark.parametrize("props", [{}, {"kmsMasterKeyId": ""}, {"kmsMasterKeyId": "alias/aws/sns"},
                                   {"kmsMasterKeyId": "arn:aws:kms:eu-west-1:111122223333:alias/aws/sns"}])
def test_topic_without_our_key_fails(snap, props):
    [message] = violations(snap(sns.TOPIC, "alarms", props))
    assert "customer-managed" in message


def test_other_types_are_not_judged(snap):
    assert violations(snap("aws:sqs/queue:Queue", "q", {})) == []
