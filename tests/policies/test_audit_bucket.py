"""The audit bucket's Object Lock: compliance mode, a year in prod (PCI DSS 10.3.2/10.5.1)."""

from __future__ import annotations

from policies import audit_bucket
from policies.offline import evaluate

BUCKET = audit_bucket.BUCKET_TYPES[0]


def bucket(snap, tags, lock=True, env="prod", purpose="audit"):
    return snap(BUCKET, "audit", {"bucket": "retail-audit", "objectLockEnabled": lock,
                                  "tags": tags(environment=env, purpose=purpose)})


def lock(snap, target, mode="COMPLIANCE", days: int | None = 365, years: int | None = None):
    retention = {"mode": mode, **({"days": days} if days is not None else {}), **({"years": years} if years else {})}
    return snap(audit_bucket.OBJECT_LOCK, f"{target.name}-lock",
                {"bucket": "retail-audit", "objectLockEnabled": "Enabled", "rule": {"defaultRetention": retention}},
                property_dependencies={"bucket": (target.urn,)})


def messages(snapshots):
    return [v.message for v in evaluate(snapshots, audit_bucket.POLICIES).violations]


def test_a_locked_audit_bucket_passes(snap, tags):
    target = bucket(snap, tags)
    assert messages([target, lock(snap, target)]) == []
    assert messages([target, lock(snap, target, days=None, years=1)]) == []


def test_a_bucket_for_another_purpose_is_not_checked(snap, tags):
    assert messages([bucket(snap, tags, lock=False, purpose="assets")]) == []


def test_an_audit_bucket_without_object_lock_fails(snap, tags):
    target = bucket(snap, tags, lock=False)
    found = messages([target])
    assert len(found) == 2 and "object_lock_enabled" in found[0] and "no default Object Lock" in found[1]


def test_governance_mode_fails(snap, tags):
    target = bucket(snap, tags)
    [message] = messages([target, lock(snap, target, mode="GOVERNANCE")])
    assert "GOVERNANCE mode" in message


def test_a_short_retention_fails_in_prod_only(snap, tags):
    prod, dev = bucket(snap, tags), bucket(snap, tags, env="dev")
    [message] = messages([prod, lock(snap, prod, days=30)])
    assert "30 days" in message
    assert messages([dev, lock(snap, dev, days=1)]) == []
