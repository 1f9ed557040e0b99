"""Compliance facts shared by the components that meet them and the policy pack that checks
them, so the two can never drift apart: floors, stateful types, reasoned exceptions."""

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

#: PCI DSS 10.5.1: audit logs are kept at least twelve months.
MIN_AUDIT_LOG_RETENTION_DAYS = 365

#: KMS.3: the longest waiting period AWS allows before deleting a key (also its default), so an
#: accidental deletion has a month to be noticed and cancelled.
KMS_DELETION_WINDOW_DAYS = 30

#: Resource types that hold data nobody can recreate, each with the input that turns on
#: AWS-side deletion protection (None where AWS offers none). In prod every one of them is
#: Pulumi-`protect`ed as well, so `pulumi destroy` and a replacing diff both stop first.
STATEFUL_TYPES: dict[str, str | None] = {
    "aws:s3/bucket:Bucket": None,
    "aws:rds/cluster:Cluster": "deletionProtection",
    "aws:rds/clusterInstance:ClusterInstance": None,
    "aws:dynamodb/table:Table": "deletionProtectionEnabled",
    "aws:elasticache/replicationGroup:ReplicationGroup": None,
    "aws:kms/key:Key": None,
    "aws:cloudwatch/logGroup:LogGroup": "deletionProtectionEnabled",
    "aws:secretsmanager/secret:Secret": None,
}


@dataclass(frozen=True)
class ControlException:
    """A deliberate deviation from a control, with the reason in real words (cdk-nag style)."""

    control: str
    reason: str


#: The tag a resource carries to name the controls it deviates from on purpose. Control ids
#: are separated by spaces (S3 tag values allow no commas).
CONTROL_EXCEPTIONS_TAG = "control-exceptions"

#: S3 server access logging and ALB access logs deliver only to buckets whose default
#: encryption is SSE-S3 (AES256): AWS does not support SSE-KMS on their target buckets. So the
#: logs bucket cannot meet S3.17.
ACCESS_LOG_TARGET_EXCEPTION = ControlException(
    control="S3.17",
    reason="S3 server access logs and ALB access logs can only be delivered to buckets encrypted "
           "with SSE-S3 (AES256), not SSE-KMS (an AWS limit), so the logs bucket keeps SSE-S3 and "
           "its policy refuses any other encryption",
)

#: Control id -> why the blueprint may deviate from it. Adding an entry is a reviewed change;
#: the policy of that control must also know what the exception still requires.
ACCEPTED_EXCEPTIONS: Mapping[str, str] = MappingProxyType({
    exception.control: exception.reason for exception in (ACCESS_LOG_TARGET_EXCEPTION,)
})
