"""Compliance floors: the numbers a control demands, shared by the components that meet them
and the policy pack that checks them, so the two can never drift apart."""

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
