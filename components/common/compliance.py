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
    # What the DR strategies and the lake add that holds data (or the key to it).
    "aws:kms/replicaKey:ReplicaKey": None,
    "aws:rds/globalCluster:GlobalCluster": "deletionProtection",
    "aws:elasticache/globalReplicationGroup:GlobalReplicationGroup": None,
    "aws:backup/vault:Vault": None,
    "aws:kinesis/stream:Stream": None,
    "aws:glue/catalogDatabase:CatalogDatabase": None,
    "aws:glue/catalogTable:CatalogTable": None,
    # The warehouse: its namespace holds the data; the workgroup its endpoint and usage limit.
    "aws:redshiftserverless/namespace:Namespace": None,
    "aws:redshiftserverless/workgroup:Workgroup": None,
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

#: Without a domain the distribution can only present CloudFront's *.cloudfront.net
#: certificate, for which CloudFront fixes the viewer policy at TLSv1.
DEFAULT_CERTIFICATE_EXCEPTIONS = (
    ControlException(
        control="CloudFront.7",
        reason="no retail:edge.domain is configured, so there is no name to issue an ACM certificate for; "
               "the distribution serves its *.cloudfront.net name with CloudFront's certificate until a "
               "domain is set (viewers still get HTTPS only)",
    ),
    ControlException(
        control="CloudFront.8",
        reason="SNI is a setting of a custom certificate; with CloudFront's default certificate there is none to "
               "set until retail:edge.domain is configured",
    ),
    ControlException(
        control="CloudFront.15",
        reason="with CloudFront's default certificate the minimum viewer protocol cannot be chosen "
               "(CloudFront fixes it); setting retail:edge.domain switches to TLSv1.2_2021",
    ),
)

#: The CLOUDFRONT ACL and its log group must be in us-east-1, and a CloudWatch log group can
#: only be encrypted with a KMS key in its own region. The platform keeps its keys in the
#: primary (and DR) region, so unless a us-east-1 key is handed in, the WAF log group of the
#: CLOUDFRONT ACL uses CloudWatch Logs' own encryption (AES-256 with AWS-owned keys).
WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION = ControlException(
    # Checkov's id: Security Hub has no control for log-group encryption.
    control="CKV_AWS_158",
    reason="the CloudFront web ACL and its WAF log group must live in us-east-1, and a log group can only "
           "use a KMS key of its own region; without a customer key in us-east-1 the log group is encrypted "
           "by CloudWatch Logs with AWS-owned keys (always on), and the logged authorization and cookie "
           "headers are redacted",
)

#: Some alarms are signals for machines, not pages for people: the FIS stop condition (FIS reads
#: it and halts the experiment) and each region's unhealthy alarm behind a Route 53 health check
#: (Route 53 reads it and fails over). People are paged by the stack's alarms (retail:alarms) on
#: the same symptoms (5xx rate, unhealthy targets); a second page would say the same twice.
MACHINE_READ_ALARM_EXCEPTION = ControlException(
    control="CloudWatch.15",
    reason="the alarm is read by a machine (an FIS stop condition or a Route 53 health check), which acts on "
           "it; people are paged by the stack's own alarms on the same symptoms",
)

#: Control id -> why the blueprint may deviate from it. Adding an entry is a reviewed change;
#: the policy of that control must also know what the exception still requires.
ACCEPTED_EXCEPTIONS: Mapping[str, str] = MappingProxyType({
    exception.control: exception.reason
    for exception in (ACCESS_LOG_TARGET_EXCEPTION, *DEFAULT_CERTIFICATE_EXCEPTIONS,
                      WAF_LOG_DEFAULT_ENCRYPTION_EXCEPTION, MACHINE_READ_ALARM_EXCEPTION)
})
