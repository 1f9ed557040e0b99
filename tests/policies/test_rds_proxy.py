"""RDS Proxy rules: TLS required, IAM auth required, no debug logging. Evaluated from their
own module (the registry lists them once the integrator wires them in)."""

from __future__ import annotations

import pytest
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from policies import rds_proxy
from policies.offline import evaluate

SECRET = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:rds!cluster-abc-Xy12Zq"

#: What components/data/sql_proxy.py writes.
COMPLIANT = {
    "engineFamily": "POSTGRESQL",
    "requireTls": True,
    "defaultAuthScheme": "IAM_AUTH",
    "debugLogging": False,
    "auths": [{"authScheme": "SECRETS", "secretArn": SECRET, "iamAuth": "REQUIRED",
               "clientPasswordAuthType": "POSTGRES_SCRAM_SHA_256"}],
}


def run(snap, tags, name=None, **overrides):
    props = {**COMPLIANT, "tags": tags(environment="prod"), **overrides}
    resource = snap(rds_proxy.PROXY, "proxy", {k: v for k, v in props.items() if v is not None})
    policies = [p for p in rds_proxy.POLICIES if name is None or p.name == name]
    return [v.message for v in evaluate([resource], policies).violations]


def test_the_components_proxy_passes_every_rule(snap, tags):
    assert run(snap, tags) == []


def test_every_rule_is_declared_once():
    names = [p.name for p in rds_proxy.POLICIES]
    assert names == ["rds-proxy-tls-required", "rds-proxy-iam-auth-required", "rds-proxy-no-debug-logging"]


@pytest.mark.parametrize("tls", [False, None], ids=["false", "missing"])
def test_proxy_without_tls_fails(snap, tags, tls):
    [message] = run(snap, tags, "rds-proxy-tls-required", requireTls=tls)
    assert "set require_tls=True" in message


@pytest.mark.parametrize("iam", ["DISABLED", None], ids=["disabled", "missing"])
def test_an_auth_entry_without_required_iam_fails(snap, tags, iam):
    auth = {k: v for k, v in {**COMPLIANT["auths"][0], "iamAuth": iam}.items() if v is not None}
    [message] = run(snap, tags, "rds-proxy-iam-auth-required", auths=[auth])
    assert "iam_auth='REQUIRED'" in message and SECRET in message


def test_one_weak_entry_among_strong_ones_fails(snap, tags):
    strong = COMPLIANT["auths"][0]
    weak = {**strong, "iamAuth": "DISABLED", "username": "reporting"}
    [message] = run(snap, tags, "rds-proxy-iam-auth-required", auths=[strong, weak])
    assert "reporting" in message


def test_end_to_end_iam_without_secrets_passes(snap, tags):
    assert run(snap, tags, "rds-proxy-iam-auth-required", auths=[]) == []


def test_no_auth_at_all_fails(snap, tags):
    [message] = run(snap, tags, "rds-proxy-iam-auth-required", auths=[], defaultAuthScheme="NONE")
    assert "no authentication" in message


def test_debug_logging_fails_and_missing_passes(snap, tags):
    [message] = run(snap, tags, "rds-proxy-no-debug-logging", debugLogging=True)
    assert "debug_logging=False" in message
    assert run(snap, tags, "rds-proxy-no-debug-logging", debugLogging=None) == []


def test_an_unknown_secret_arn_during_preview_still_passes(snap, tags):
    auth = {**COMPLIANT["auths"][0], "secretArn": UNKNOWN_STRING_VALUE}
    assert run(snap, tags, auths=[auth]) == []


def test_other_types_are_not_checked(snap):
    other = snap("aws:rds/cluster:Cluster", "aurora", {})
    assert evaluate([other], rds_proxy.POLICIES).violations == []
