"""The stack's alarms, the encrypted SNS topic they publish to, and its dashboard.

Every alarm publishes its ALARM and its OK transition to one SNS topic per region the alarms
live in, encrypted with the key of the ``alarms`` domain (SNS.1; alias/aws/sns cannot be used,
its policy does not admit CloudWatch). The topic policy lets only CloudWatch alarms of this
account publish, and refuses any request not made over TLS. The subscription is ``notify`` of
``retail:alarms`` (e-mail or an https chat webhook; either must be confirmed once).

CloudFront (and the CLOUDFRONT-scope web ACL) publish metrics only in us-east-1, and an alarm
can only notify a topic of its own region: when the stack's region is not us-east-1, those
alarms get a second topic there, encrypted with an alarms key of us-east-1 (``edge_key_arn``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import policy_document
from components.observability.settings import AlarmsConfig
from components.observability.signals import GLOBAL_METRICS_REGION, Signal, SignalSources, dashboard_body, signals


def alarm_topic_policy(topic_arn: str, *, partition: str, region: str, account_id: str) -> dict[str, Any]:
    """Publish only by CloudWatch, for an alarm of this account in this region; TLS only."""
    return policy_document(
        {
            "Sid": "AllowCloudWatchAlarmsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            # Confused deputy: another account's alarm reaches us through the same service
            # principal; these name ours.
            "Condition": {
                "StringEquals": {"aws:SourceAccount": account_id},
                "ArnLike": {"aws:SourceArn": f"arn:{partition}:cloudwatch:{region}:{account_id}:alarm:*"},
            },
        },
        {
            "Sid": "DenyWithoutTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:*",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


@dataclass(frozen=True)
class AlarmsArgs:
    settings: AlarmsConfig
    key_arn: pulumi.Input[str]
    """The ``alarms`` domain key of the stack's region (:data:`components.foundation.keys.ALARMS_DOMAIN`)."""
    sources: SignalSources = field(default_factory=SignalSources)
    edge_key_arn: pulumi.Input[str] | None = None
    """The ``alarms`` key of us-east-1, for CloudFront's alarms when the region is another (and
    the DR region is not us-east-1 either)."""
    standby: StandbySignals | None = None
    """The DR region's signals (a replicating strategy): alarmed there, on the same dashboard."""


@dataclass(frozen=True)
class StandbySignals:
    region: str
    key_arn: pulumi.Input[str]
    """The ``alarms`` key of the DR region (the DR ring's)."""
    sources: SignalSources
    """The DR slice's stores: its Aurora secondary (``global_secondary=True``: the replication
    lag is published by the secondary, in its region), its cache, its cluster, ..."""


class AlarmTopic(pulumi.ComponentResource):
    """One encrypted topic, its policy and its subscription, in one region."""

    def __init__(self, name: str, context: StackContext, settings: AlarmsConfig, key_arn: pulumi.Input[str],
                 physical: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:observability:AlarmTopic", name, None, opts)
        conv, region = context.conventions, context.region
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            name,
            name=physical,
            display_name=f"retail {conv.stack} alarms",
            kms_master_key_id=key_arn,
            region=region,
            tags=conv.tags(physical),
            opts=child,
        )
        self.policy = aws.sns.TopicPolicy(
            name,
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, context.partition, context.account_id).apply(
                lambda v: json.dumps(alarm_topic_policy(v[0], partition=v[1], region=region, account_id=v[2]),
                                     sort_keys=True)),
            region=region,
            opts=child,
        )
        self.subscription = aws.sns.TopicSubscription(
            name,
            topic=self.topic.arn,
            protocol=settings.protocol,
            endpoint=settings.notify,
            region=region,
            opts=child,
        )
        self.register_outputs({"topicArn": self.topic.arn})


class Alarms(pulumi.ComponentResource):
    """An alarm for each signal present on the stack, and the dashboard of the same signals."""

    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    topics: dict[str, AlarmTopic]
    """Region -> the topic alarms of that region publish to."""
    signals: list[Signal]

    def __init__(self, name: str, context: StackContext, args: AlarmsArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:observability:Alarms", name, None, opts)
        conv = context.conventions
        self.signals = signals(args.sources, args.settings, context.region)
        keys: dict[str, pulumi.Input[str]] = {context.region: args.key_arn}
        if args.edge_key_arn is not None:
            keys.setdefault(GLOBAL_METRICS_REGION, args.edge_key_arn)
        if args.standby is not None:
            if args.standby.region == context.region:
                raise ValueError(f"AlarmsArgs.standby.region is the stack's own region {context.region!r}; give "
                                 "the DR region (retail:dr.region)")
            keys[args.standby.region] = args.standby.key_arn
            # "dr-" keeps the two regions' alarms apart (names are per account and region, but a
            # person reading "retail-prod-dr-aurora-cpu" knows which cluster it is at once).
            self.signals += [dataclasses.replace(s, key=f"dr-{s.key}", title=f"{s.title}, DR region")
                             for s in signals(args.standby.sources, args.settings, args.standby.region)]
        regions = sorted({s.region for s in self.signals} | {context.region})
        unkeyed = [r for r in regions if r not in keys]
        if unkeyed:
            raise ValueError(
                f"AlarmsArgs: alarms in {', '.join(unkeyed)} need a topic there, encrypted with an alarms key of "
                f"that region; CloudFront's alarms live in {GLOBAL_METRICS_REGION}: pass edge_key_arn (the alarms "
                "key of the us-east-1 ring), or leave the CloudFront signals out")
        self.topics = {
            region: AlarmTopic(
                name if region == context.region else f"{name}-{region}", context.in_region(region), args.settings,
                keys[region],
                # Topic names are regional, but a region in the edge topic's name tells the reader why.
                conv.physical_name("alarms", *([] if region == context.region else [region]), max_length=256),
                opts=pulumi.ResourceOptions(parent=self))
            for region in regions
        }
        self.alarms = {}
        for signal in self.signals:
            topic = self.topics[signal.region].topic.arn
            physical = conv.physical_name(signal.key, max_length=255)
            self.alarms[signal.key] = aws.cloudwatch.MetricAlarm(
                f"{name}-{signal.key}",
                name=physical,
                alarm_description=f"{signal.title} above {signal.threshold:g}{signal.unit} in "
                                  f"{signal.datapoints_to_alarm} of {signal.evaluation_periods} periods of "
                                  f"{signal.period}s. Missing data: {signal.treat_missing_data} "
                                  f"({signal.why_missing}).",
                comparison_operator=signal.comparison,
                threshold=signal.threshold,
                evaluation_periods=signal.evaluation_periods,
                datapoints_to_alarm=signal.datapoints_to_alarm,
                treat_missing_data=signal.treat_missing_data,
                metric_queries=_queries(signal),
                # OK too: whoever was paged learns that it is over without opening the console.
                alarm_actions=[topic],
                ok_actions=[topic],
                region=signal.region,
                tags=conv.tags(physical, {"signal": signal.key}),
                opts=pulumi.ResourceOptions(parent=self),
            )
        dashboard_name = conv.physical_name("overview", max_length=255)
        self.dashboard = aws.cloudwatch.Dashboard(
            name,
            dashboard_name=dashboard_name,
            dashboard_body=pulumi.Output.from_input(dashboard_body(self.signals)).apply(
                lambda body: json.dumps(body, sort_keys=True)),
            region=context.region,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({
            "topicArns": {region: t.topic.arn for region, t in self.topics.items()},
            "alarmNames": {key: alarm.name for key, alarm in self.alarms.items()},
            "dashboardName": self.dashboard.dashboard_name,
        })


def _queries(signal: Signal) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    queries = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=query_id,
            metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                namespace=metric.namespace, metric_name=metric.name, dimensions=dict(metric.dimensions),
                stat=metric.stat, period=signal.period),
            return_data=signal.expression is None,
        )
        for query_id, metric in signal.metrics.items()
    ]
    if signal.expression is not None:
        queries.append(aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="e1", expression=signal.expression, label=signal.title, return_data=True))
    return queries
