"""Athena workgroups: query results encrypted with a customer-managed key, and the
workgroup's settings enforced over the client's."""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from policies._helpers import known, mapping, names_customer_key, resource_policy

WORKGROUP = "aws:athena/workgroup:Workgroup"
KMS_OPTIONS = ("SSE_KMS", "CSE_KMS")


# --- Athena.1 -------------------------------------------------------------------------------


def _encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    configuration = mapping(known(args.props, "configuration"))
    encryption = mapping(mapping(configuration.get("resultConfiguration")).get("encryptionConfiguration"))
    if encryption.get("encryptionOption") not in KMS_OPTIONS or not names_customer_key(encryption, "kmsKeyArn"):
        report_violation(
            "workgroup's query results are not encrypted with a customer-managed key; set configuration."
            "result_configuration.encryption_configuration (encryption_option='SSE_KMS', kms_key_arn=the data key).",
            None,
        )
    # Missing is compliant: the provider's default is true.
    if configuration.get("enforceWorkgroupConfiguration") is False:
        report_violation(
            "workgroup lets queries override its result location and encryption; set configuration."
            "enforce_workgroup_configuration=True.",
            None,
        )


POLICIES = [
    resource_policy(
        "athena-workgroup-encrypted",
        "Athena.1: Athena workgroups encrypt query results with a customer-managed KMS key and enforce "
        "their configuration",
        (WORKGROUP,),
        _encrypted,
    ),
]
