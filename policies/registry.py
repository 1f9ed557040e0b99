"""The whole pack: every policy, imported from its service's module, in one list.

Nothing else lives here. ``__main__.py`` hands ``POLICIES`` to ``PolicyPack``, and the
offline evaluator (``policies.offline``) and the tests run it; a new policy is written in the
module of the resource type it checks (a stack policy: of the resources it links) and only
listed here.
"""

from __future__ import annotations

from pulumi_policy import Policy

from policies import (
    apigateway,
    athena,
    audit_bucket,
    cloudfront,
    cloudtrail,
    cloudwatch,
    config,
    data_safety,
    dynamodb,
    ec2,
    eks,
    elasticache,
    elb,
    exceptions,
    firehose,
    github_oidc,
    guardduty,
    iam,
    kinesis,
    kms,
    kubernetes,
    logs,
    rds,
    rds_proxy,
    redshift_serverless,
    resilience,
    s3,
    scheduler,
    secrets_manager,
    sns,
    tags,
    waf,
)

#: The whole pack, in the order ``pulumi preview`` reports it: foundation (keys, network,
#: logs, tags), data (stores, then streams, the lake and the warehouse), audit, detection and
#: alarms, control families, disaster recovery, identity (CI's too), compute, edge, partner APIs.
POLICIES: list[Policy] = [
    *kms.POLICIES,
    *ec2.POLICIES,
    *logs.POLICIES,
    *tags.POLICIES,
    *s3.POLICIES,
    *rds.POLICIES,
    *rds_proxy.POLICIES,
    *dynamodb.POLICIES,
    *elasticache.POLICIES,
    *secrets_manager.POLICIES,
    *kinesis.POLICIES,
    *firehose.POLICIES,
    *athena.POLICIES,
    *redshift_serverless.POLICIES,
    *cloudtrail.POLICIES,
    *config.POLICIES,
    *guardduty.POLICIES,
    *audit_bucket.POLICIES,
    *sns.POLICIES,
    *cloudwatch.POLICIES,
    *exceptions.POLICIES,
    *data_safety.POLICIES,
    *resilience.POLICIES,
    *scheduler.POLICIES,
    *iam.POLICIES,
    *github_oidc.POLICIES,
    *eks.POLICIES,
    *kubernetes.POLICIES,
    *cloudfront.POLICIES,
    *elb.POLICIES,
    *waf.POLICIES,
    *apigateway.POLICIES,
]
