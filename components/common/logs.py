"""The one way the platform keeps a log: a CloudWatch log group of ours, created before the
service that writes to it, so its retention and key are decided here and not by AWS.

A log group AWS creates on first write never expires and is encrypted with AWS's own key;
audit evidence (PCI DSS 10.3, 10.5.1) needs a retention we choose, our KMS key and, in prod,
protection from deletion by Pulumi and in the console.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext


def log_group(resource_name: str, context: StackContext, *, name: pulumi.Input[str], retention_days: int,
              key_arn: pulumi.Input[str] | None, tags: Mapping[str, str], parent: pulumi.Resource,
              region: str | None = None) -> aws.cloudwatch.LogGroup:
    """A log group named ``name`` kept ``retention_days``, encrypted with ``key_arn`` (None:
    CloudWatch Logs' own encryption, only where a reasoned exception says why), protected and
    deletion-protected when the stack protects its data. ``region`` defaults to the context's."""
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=name,
        retention_in_days=retention_days,
        kms_key_id=key_arn,
        deletion_protection_enabled=context.protect,
        region=region or context.region,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=context.protect),
    )
