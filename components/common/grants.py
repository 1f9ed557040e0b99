"""Least-privilege IAM, expressed rather than typed by hand.

Components build their grants from these pure functions, so that every document the
blueprint attaches is a plain dict the tests can load into moto as it is. A grant that needs
a KMS key grants exactly the key operations it needs, and only through the data's service
(``kms:ViaService``), so holding a grant to one table never lets a role decrypt with the
key directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

POLICY_VERSION = "2012-10-17"

#: Key operations a reader needs: decrypt the data keys that protect what it reads.
KMS_DECRYPT = ("kms:Decrypt",)
#: Key operations a writer needs: make new data keys (and decrypt them for multipart uploads).
KMS_ENCRYPT = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*")


def _names(what: str, values: Sequence[str]) -> list[str]:
    # A bare string is a Sequence[str] too: "s3:GetObject" would become twelve one-letter actions.
    if isinstance(values, str):
        raise TypeError(f"{what} must be a list of names, not the single string {values!r}")
    if not values:
        raise ValueError(f"{what} is empty: IAM refuses a statement that names none")
    return list(values)


def statement(sid: str, actions: Sequence[str], resources: Sequence[str], *,
              effect: str = "Allow", condition: dict[str, Any] | None = None) -> dict[str, Any]:
    actions, resources = _names("actions", actions), _names("resources", resources)
    result: dict[str, Any] = {"Sid": sid, "Effect": effect, "Action": sorted(set(actions)),
                              "Resource": list(resources)}
    if condition:
        result["Condition"] = condition
    return result


def kms_via_service(sid: str, key_arn: str, actions: Sequence[str], service: str, region: str) -> dict[str, Any]:
    """Use of ``key_arn`` only through ``service`` in ``region`` (e.g. ``s3``, ``dynamodb``)."""
    return statement(sid, actions, [key_arn],
                     condition={"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}})


def service_trust_policy(service: str, account_id: str | None, actions: Sequence[str] = ("sts:AssumeRole",), *,
                         sid: str | None = None, string_equals: Mapping[str, str] | None = None) -> dict[str, Any]:
    """A role only ``service`` may assume, and (with ``account_id``) only when acting for this
    account: ``aws:SourceAccount`` closes the confused-deputy hole, where another account's use
    of the same service would borrow our role. ``string_equals`` narrows it further (request
    tags a service sets on the session, for example)."""
    actions = _names("actions", actions)
    trust: dict[str, Any] = {} if sid is None else {"Sid": sid}
    trust |= {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": actions[0] if len(actions) == 1 else list(actions),
    }
    conditions = ({} if account_id is None else {"aws:SourceAccount": account_id}) | dict(string_equals or {})
    if conditions:
        trust["Condition"] = {"StringEquals": conditions}
    return {"Version": POLICY_VERSION, "Statement": [trust]}


def people_trust_policy(partition: str, account_id: str) -> dict[str, Any]:
    """A role people of this account assume (through IAM Identity Center or their own IAM
    identity, which must also be allowed ``sts:AssumeRole`` on it), with MFA only (PCI DSS
    8.4.2: all access to cardholder-data systems)."""
    return {"Version": POLICY_VERSION, "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    }]}


def policy_document(*statements: dict[str, Any]) -> dict[str, Any]:
    sids = [s["Sid"] for s in statements]
    if len(sids) != len(set(sids)):
        raise ValueError(f"statement ids must be unique within a policy: {sids}")
    return {"Version": POLICY_VERSION, "Statement": list(statements)}


def attach(name: str, role: aws.iam.Role, document: pulumi.Input[dict[str, Any]],
           parent: pulumi.Resource) -> aws.iam.RolePolicy:
    """Attach a grant to ``role`` as an inline policy named after the grant.

    Inline, so the grant lives and dies with the role it was made for (IAM.2 forbids user
    policies; inline role policies cannot be reused by accident elsewhere). The stores parent
    their grants under the role too: a grant is the role's, and anything that waits for a store
    must not wait for the workloads that were granted access to it.
    """
    return aws.iam.RolePolicy(
        name,
        role=role.id,
        policy=pulumi.Output.from_input(document).apply(lambda doc: json.dumps(doc, sort_keys=True)),
        opts=pulumi.ResourceOptions(parent=parent),
    )
