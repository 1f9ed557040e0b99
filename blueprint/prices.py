"""The price table ``blueprint cost`` reads: on-demand list prices in USD for the three regions
the presets use, each with the AWS pricing page it comes from.

Dated and offline on purpose: an estimate must be reproducible and must not need network or
credentials at run time. Prices change; when they do, update the figures *and* ``PRICES_DATE``
(the date is printed with every estimate, so nobody mistakes it for an invoice).

Honesty rule: a figure copied from the pricing page for that region is ``approximate=False``;
a figure recalled, interpolated between regions or derived (e.g. a region's price taken as the
nearest region's) is ``approximate=True`` and the estimate marks it with ``~``. Never add digits
that were not on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: The day the table was written. It was written offline (no network in the build environment):
#: the figures are the pricing pages' as known then, not fetched that day. Those marked
#: ``approximate=False`` are long-stable list prices (EKS $0.10/h, KMS $1/key, WAF $5/$1/$0.60 ...);
#: re-check the rest against the source pages before quoting an estimate, then move this date.
PRICES_DATE = "2026-11-25"
CURRENCY = "USD"
#: AWS bills hourly resources over 730 hours a month (8,760 / 12): the pricing pages use it too.
HOURS_PER_MONTH = 730.0
REGIONS = ("eu-west-1", "eu-central-1", "us-east-1")


@dataclass(frozen=True)
class Price:
    unit: str
    """What one unit is: ``hour``, ``GB``, ``GB-month``, ``million requests`` ..."""
    by_region: Mapping[str, float]
    source: str
    """The AWS pricing page the figure is read from."""
    approximate: bool = True
    note: str = ""

    def at(self, region: str) -> float:
        """The price in ``region``; a region the table does not list falls back to us-east-1
        (the cheapest of the three), which the estimate flags as approximate."""
        return self.by_region.get(region, self.by_region["us-east-1"])

    def approximate_in(self, region: str) -> bool:
        return self.approximate or region not in self.by_region


def _same(value: float) -> dict[str, float]:
    """A price the pricing page gives once for every commercial region."""
    return dict.fromkeys((*REGIONS, "global"), value)


def _r(eu_west_1: float, eu_central_1: float, us_east_1: float) -> dict[str, float]:
    return {"eu-west-1": eu_west_1, "eu-central-1": eu_central_1, "us-east-1": us_east_1}


_VPC = "https://aws.amazon.com/vpc/pricing/"
_EC2 = "https://aws.amazon.com/ec2/pricing/on-demand/"
_EKS = "https://aws.amazon.com/eks/pricing/"
_AURORA = "https://aws.amazon.com/rds/aurora/pricing/"
_CACHE = "https://aws.amazon.com/elasticache/pricing/"
_ELB = "https://aws.amazon.com/elasticloadbalancing/pricing/"
_CLOUDFRONT = "https://aws.amazon.com/cloudfront/pricing/"
_WAF = "https://aws.amazon.com/waf/pricing/"
_KMS = "https://aws.amazon.com/kms/pricing/"
_CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
_KINESIS = "https://aws.amazon.com/kinesis/data-streams/pricing/"
_FIREHOSE = "https://aws.amazon.com/firehose/pricing/"
_REDSHIFT = "https://aws.amazon.com/redshift/pricing/"
_APIGW = "https://aws.amazon.com/api-gateway/pricing/"
_ROUTE53 = "https://aws.amazon.com/route53/pricing/"
_BACKUP = "https://aws.amazon.com/backup/pricing/"
_S3 = "https://aws.amazon.com/s3/pricing/"
_SECRETS = "https://aws.amazon.com/secrets-manager/pricing/"
_GUARDDUTY = "https://aws.amazon.com/guardduty/pricing/"
_CONFIG = "https://aws.amazon.com/config/pricing/"
_CLOUDTRAIL = "https://aws.amazon.com/cloudtrail/pricing/"
_DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
_EBS = "https://aws.amazon.com/ebs/pricing/"

#: vCPUs and memory (GiB) of the instance types the presets use: to turn vCPUs into nodes.
INSTANCE_SIZES: dict[str, tuple[int, int]] = {
    "t4g.medium": (2, 4), "t4g.large": (2, 8), "m7g.large": (2, 8), "c7g.large": (2, 4), "r7g.large": (2, 16),
    "m7g.xlarge": (4, 16), "c7g.xlarge": (4, 8), "r7g.xlarge": (4, 32),
}

#: Every price the estimate uses, by key. Keys name the service and the dimension.
PRICES: dict[str, Price] = {
    # -- network --------------------------------------------------------------------------
    "nat.hour": Price("hour", _r(0.048, 0.052, 0.045), _VPC, approximate=False),
    "nat.gb": Price("GB processed", _r(0.048, 0.052, 0.045), _VPC, approximate=False),
    "vpce.interface.hour": Price("endpoint-AZ hour", _r(0.011, 0.012, 0.01), _VPC,
                                 note="interface endpoints are billed per AZ they sit in"),
    "ipv4.hour": Price("public IPv4 address hour", _same(0.005), _VPC, approximate=False,
                       note="every public IPv4 address since February 2024 (the NAT gateways' Elastic IPs)"),
    # -- compute --------------------------------------------------------------------------
    "eks.cluster.hour": Price("cluster hour", _same(0.10), _EKS, approximate=False,
                              note="standard support; extended support is $0.60"),
    "ec2.t4g.medium.hour": Price("instance hour", _r(0.0368, 0.0384, 0.0336), _EC2,
                                 note="Linux on-demand; EU figures approximate"),
    "ec2.t4g.large.hour": Price("instance hour", _r(0.0736, 0.0768, 0.0672), _EC2,
                                note="Linux on-demand; twice t4g.medium; EU figures approximate"),
    "ec2.m7g.large.hour": Price("instance hour", _r(0.0892, 0.0952, 0.0816), _EC2,
                                note="Linux on-demand; EU figures approximate"),
    "ec2.c7g.large.hour": Price("instance hour", _r(0.0771, 0.0826, 0.0725), _EC2,
                                note="Linux on-demand; EU figures approximate"),
    "ec2.r7g.large.hour": Price("instance hour", _r(0.1141, 0.1218, 0.1071), _EC2,
                                note="Linux on-demand; EU figures approximate"),
    "ebs.gp3.gb-month": Price("GB-month", _r(0.088, 0.0952, 0.08), _EBS, note="nodes' root volumes"),
    # -- databases ------------------------------------------------------------------------
    "aurora.acu.hour": Price("ACU-hour", _r(0.13, 0.14, 0.12), _AURORA,
                             note="Aurora PostgreSQL Serverless v2, Aurora Standard; EU approximate"),
    "aurora.storage.gb-month": Price("GB-month", _r(0.11, 0.119, 0.10), _AURORA,
                                     note="Aurora Standard storage; EU approximate"),
    "aurora.io.million": Price("million I/O requests", _r(0.22, 0.22, 0.20), _AURORA,
                               note="Aurora Standard only (I/O-Optimized has none); EU approximate"),
    "aurora.global.replicated-io.million": Price("million replicated write I/Os", _r(0.22, 0.22, 0.20), _AURORA,
                                                 note="Aurora Global Database, charged in each secondary; approximate"),
    "aurora.db.r7g.large.hour": Price("instance hour", _r(0.304, 0.323, 0.276), _AURORA,
                                      note="provisioned db.r7g.large, Aurora Standard; approximate"),
    "elasticache.cache.t4g.small.hour": Price("node hour", _r(0.036, 0.037, 0.032), _CACHE,
                                              note="Redis OSS node price; Valkey is 20% less"),
    "elasticache.cache.t4g.medium.hour": Price("node hour", _r(0.072, 0.074, 0.065), _CACHE,
                                               note="Redis OSS node price; Valkey is 20% less"),
    "elasticache.cache.r7g.large.hour": Price("node hour", _r(0.243, 0.251, 0.219), _CACHE,
                                              note="Redis OSS node price; Valkey is 20% less"),
    "dynamodb.wru.million": Price("million write request units", _r(0.7065, 0.7625, 0.625), _DYNAMODB,
                                  note="on-demand, after the November 2024 price cut; EU approximate"),
    "dynamodb.rru.million": Price("million read request units", _r(0.1413, 0.1525, 0.125), _DYNAMODB,
                                  note="on-demand, after the November 2024 price cut; EU approximate"),
    "dynamodb.storage.gb-month": Price("GB-month", _r(0.283, 0.306, 0.25), _DYNAMODB,
                                       note="Standard table class; EU approximate"),
    "secretsmanager.secret.month": Price("secret-month", _same(0.40), _SECRETS, approximate=False),
    # -- load balancing, edge -------------------------------------------------------------
    "alb.hour": Price("ALB hour", _r(0.0252, 0.027, 0.0225), _ELB, note="EU approximate"),
    "alb.lcu.hour": Price("LCU-hour", _r(0.008, 0.008, 0.008), _ELB,
                          note="reserved LCUs (capacity reservation) are billed at this rate too; approximate"),
    "nlb.hour": Price("NLB hour", _r(0.0252, 0.027, 0.0225), _ELB, note="EU approximate"),
    "nlb.nlcu.hour": Price("NLCU-hour", _r(0.006, 0.006, 0.006), _ELB, note="approximate"),
    "cloudfront.gb": Price("GB to viewers", _same(0.085), _CLOUDFRONT, approximate=False,
                           note="Europe and North America, first 10 TB a month"),
    "cloudfront.https.million": Price("million HTTPS requests", _same(1.00), _CLOUDFRONT,
                                      note="$0.0100 per 10,000 in Europe/North America; approximate"),
    "waf.acl.month": Price("web ACL-month", _same(5.0), _WAF, approximate=False),
    "waf.rule.month": Price("rule-month", _same(1.0), _WAF, approximate=False),
    "waf.requests.million": Price("million requests", _same(0.60), _WAF, approximate=False),
    "waf.botcontrol.month": Price("subscription-month", _same(10.0), _WAF, approximate=False,
                                  note="Bot Control (common) rule group"),
    "waf.botcontrol.requests.million": Price("million requests inspected by Bot Control", _same(1.00), _WAF,
                                             note="common inspection level; the first 10 million a month are "
                                                  "free (not counted here); approximate"),
    "apigw.rest.million": Price("million REST calls", _r(3.50, 3.70, 3.50), _APIGW,
                                note="first 333 million a month; EU approximate"),
    "route53.zone.month": Price("hosted zone-month", _same(0.50), _ROUTE53, approximate=False),
    "route53.healthcheck.month": Price("health check-month", _same(0.50), _ROUTE53, approximate=False,
                                       note="basic health check of an AWS endpoint (CloudWatch alarm based)"),
    # -- security, audit ------------------------------------------------------------------
    "kms.key.month": Price("key-month", _same(1.0), _KMS, approximate=False,
                           note="each multi-Region replica key is a key too"),
    "kms.requests.10k": Price("10,000 requests", _same(0.03), _KMS, approximate=False),
    "guardduty.region.month": Price("region-month (assumed)", _same(40.0), _GUARDDUTY,
                                    note="ASSUMED flat figure: GuardDuty bills events, logs and EKS vCPUs "
                                         "analysed; check the account's GuardDuty usage page"),
    "config.item": Price("configuration item", _same(0.003), _CONFIG, approximate=False),
    "config.evaluation": Price("rule evaluation", _same(0.001), _CONFIG, approximate=False,
                               note="first 100,000 evaluations a month"),
    "cloudtrail.data.100k": Price("100,000 data events", _same(0.10), _CLOUDTRAIL, approximate=False,
                                  note="the first copy of management events is free"),
    # -- logs, streams, analytics ---------------------------------------------------------
    "logs.ingest.gb": Price("GB ingested", _r(0.57, 0.63, 0.50), _CLOUDWATCH,
                            note="standard log class; vended logs (flow, WAF) are tiered from this; EU approximate"),
    "logs.storage.gb-month": Price("GB-month archived", _r(0.03, 0.0324, 0.03), _CLOUDWATCH,
                                   note="EU approximate"),
    "kinesis.stream.hour": Price("on-demand stream hour", _r(0.044, 0.048, 0.04), _KINESIS,
                                 note="EU approximate"),
    "kinesis.in.gb": Price("GB written (on-demand)", _r(0.088, 0.096, 0.08), _KINESIS, note="EU approximate"),
    "firehose.gb": Price("GB ingested", _r(0.031, 0.034, 0.029), _FIREHOSE, note="first 500 TB; approximate"),
    "redshift.rpu.hour": Price("RPU-hour", _r(0.375, 0.45, 0.375), _REDSHIFT,
                               note="Redshift Serverless, billed per second only while queries run"),
    # -- storage, backup, replication -----------------------------------------------------
    "s3.standard.gb-month": Price("GB-month", _r(0.023, 0.0245, 0.023), _S3, note="first 50 TB"),
    "s3.replication.gb": Price("GB replicated across regions", _same(0.02), _S3,
                               note="inter-region transfer out of the EU/US regions; approximate"),
    "s3.rtc.gb": Price("GB replicated with RTC", _same(0.015), _S3, approximate=False,
                       note="S3 Replication Time Control"),
    "backup.warm.gb-month": Price("GB-month", _r(0.021, 0.023, 0.021), _BACKUP,
                                  note="Aurora snapshot storage through AWS Backup; approximate"),
    "transfer.interregion.gb": Price("GB between regions", _same(0.02), _EC2, note="approximate"),
}


def price(key: str) -> Price:
    try:
        return PRICES[key]
    except KeyError:
        raise KeyError(f"no price {key!r} in blueprint/prices.py (dated {PRICES_DATE}): add it with its source") \
            from None
