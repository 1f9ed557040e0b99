"""Identity policies the blueprint writes: no wildcard administration (IAM.1, IAM.21) and no
decryption with every key in the account (KMS.1, KMS.2).

Grants are built from named action lists (components/common/grants.py); these checks make sure a
hand-written policy that slips in later is held to the same standard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import as_list, policy_document, resource_policy, statement_id, statements

#: Identity-policy resources: inline role policies, managed policies, user and group policies.
POLICY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)

#: KMS actions that read with a key: allowed on "*" they decrypt with every key in the account.
KMS_DECRYPT_ACTIONS = ("kms:decrypt", "kms:reencryptfrom", "kms:decrypt*", "kms:reencrypt*", "kms:*")


def _allow_statements(props: Mapping[str, Any], report_violation: ReportViolation):
    document, problem = policy_document(props.get("policy"))
    if document is None:
        report_violation(f"policy {problem}; build it as a dict and pass json.dumps(document).", None)
        return []
    return [(statement_id(s, i), s) for i, s in enumerate(statements(document))
            if str(s.get("Effect", "")).lower() == "allow"]


def _no_wildcard_actions(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for sid, statement in _allow_statements(args.props, report_violation):
        if "NotAction" in statement:
            report_violation(f"statement {sid} allows NotAction, i.e. everything but a list; name the "
                             "actions it needs instead.", None)
        wildcards = [a for a in map(str, as_list(statement.get("Action"))) if a == "*" or a.endswith(":*")]
        if wildcards:
            report_violation(f"statement {sid} allows {', '.join(wildcards)}: full administration of a "
                             "service; grant the named actions the workload needs (components/common/grants.py).",
                             None)


def _no_decrypt_on_every_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for sid, statement in _allow_statements(args.props, report_violation):
        actions = {a.lower() for a in map(str, as_list(statement.get("Action")))}
        resources = [str(r) for r in as_list(statement.get("Resource"))]
        if actions & set(KMS_DECRYPT_ACTIONS) and "*" in resources:
            report_violation(f"statement {sid} allows kms:Decrypt on every key ('*'); name the key ARN.", None)


#: Services whose actions read or write customer data, by their IAM prefix.
DATA_SERVICES = ("dynamodb", "s3", "rds-db", "elasticache", "secretsmanager", "kinesis", "firehose", "redshift-data")


def _names_every_store(resource: str) -> bool:
    """'*', or an ARN whose store name is a bare wildcard: ``arn:aws:s3:::*`` (every bucket;
    ``bucket/*`` is one bucket's objects), ``...:table/*`` (every table)."""
    if resource == "*":
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return False
    path = parts[5].split("/")
    # S3 ARNs start with the bucket; the others with a resource type, then the store's name.
    name = path[0] if parts[2] == "s3" else (path[1] if len(path) > 1 else path[0])
    return name == "*"


def _data_actions_on_named_stores(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for sid, statement in _allow_statements(args.props, report_violation):
        actions = [a for a in map(str, as_list(statement.get("Action")))
                   if a.split(":", 1)[0].lower() in DATA_SERVICES]
        broad = [r for r in map(str, as_list(statement.get("Resource"))) if _names_every_store(r)]
        if actions and broad:
            report_violation(f"statement {sid} allows {', '.join(sorted(actions))} on {', '.join(broad)}: every "
                             "store of that kind in the account; grant only the stores the workload declares "
                             "(retail:services[].uses).", None)


POLICIES = [
    resource_policy(
        "iam-no-wildcard-actions",
        "IAM.1 / IAM.21: identity policies name their actions (no '*' or 'service:*')",
        POLICY_TYPES,
        _no_wildcard_actions,
    ),
    resource_policy(
        "iam-data-actions-on-named-stores",
        "PCI DSS 7.2: identity policies grant data actions on named stores, never on every one ('*')",
        POLICY_TYPES,
        _data_actions_on_named_stores,
    ),
    resource_policy(
        "iam-no-decrypt-on-all-keys",
        "KMS.1 / KMS.2: identity policies do not allow kms:Decrypt on every key",
        POLICY_TYPES,
        _no_decrypt_on_every_key,
    ),
]
