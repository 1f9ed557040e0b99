"""Kinesis Data Streams for the platform's events (clickstream, orders, inventory changes).

On-demand (no shard planning for a sale), encrypted with the stack's data key, retention from
``retail:streams``, shard-level metrics where configured (prod). Producers are granted
put-record rights only on the streams they declare (:meth:`Streams.grant_put`), consumers read
rights only on theirs (:meth:`Streams.grant_read`); the key only through Kinesis. A DynamoDB
table's item changes reach a stream through a Kinesis streaming destination.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.analytics.settings import StreamsConfig
from components.common.context import StackContext
from components.common.grants import KMS_DECRYPT, attach, kms_via_service, policy_document, statement

#: The shard-level metrics turned on where the config asks for enhanced monitoring.
SHARD_LEVEL_METRICS = (
    "IncomingBytes",
    "IncomingRecords",
    "IteratorAgeMilliseconds",
    "OutgoingBytes",
    "OutgoingRecords",
    "ReadProvisionedThroughputExceeded",
    "WriteProvisionedThroughputExceeded",
)

PUT_ACTIONS = (
    "kinesis:DescribeStreamSummary",
    "kinesis:ListShards",
    "kinesis:PutRecord",
    "kinesis:PutRecords",
)
READ_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
#: A producer's key use: new data keys for the records it puts (Kinesis encrypts as it).
KMS_PUT = ("kms:GenerateDataKey",)


def stream_put_policy(stream_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """Put records on one stream, and nothing else on it (no reads, no stream administration)."""
    return policy_document(
        statement("PutRecords", PUT_ACTIONS, [stream_arn]),
        kms_via_service("EncryptThroughKinesis", key_arn, KMS_PUT, "kinesis", region),
    )


def stream_read_policy(stream_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """Read the records of one stream (shared-throughput consumer); no puts, no administration."""
    return policy_document(
        statement("ReadRecords", READ_ACTIONS, [stream_arn]),
        kms_via_service("DecryptThroughKinesis", key_arn, KMS_DECRYPT, "kinesis", region),
    )


@dataclass(frozen=True)
class StreamsArgs:
    settings: StreamsConfig
    data_key_arn: pulumi.Input[str]
    """The customer-managed key every stream is encrypted with."""
    source_tables: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """DynamoDB tables by their retail:nosql name -> table ARN (or name), for the configured
    ``changeStreams``; a configured table missing here is an error."""


class Streams(pulumi.ComponentResource):
    """One on-demand, KMS-encrypted Kinesis stream per configured stream, with grants."""

    streams: dict[str, aws.kinesis.Stream]
    destinations: dict[str, aws.dynamodb.KinesisStreamingDestination]

    def __init__(self, name: str, context: StackContext, args: StreamsArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:analytics:Streams", name, None, opts)
        self._name, self._region = name, context.region
        self._key_arn = pulumi.Output.from_input(args.data_key_arn)
        self.settings = args.settings
        conv = context.conventions
        missing = sorted(set(args.settings.change_streams) - set(args.source_tables))
        if missing:
            raise ValueError(f"retail:streams.changeStreams names table(s) {', '.join(missing)} but StreamsArgs."
                             "source_tables does not give their ARNs; pass the NoSqlTables' table ARNs, or remove "
                             "them from changeStreams")
        self.streams = {}
        for stream in args.settings.streams:
            physical = conv.physical_name(stream.name, max_length=128)
            self.streams[stream.name] = aws.kinesis.Stream(
                f"{name}-{stream.name}",
                name=physical,
                # On-demand: capacity follows the traffic (a sale), no shard count to plan.
                stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(stream_mode="ON_DEMAND"),
                retention_period=stream.retention_hours,
                # Kinesis.1, with our key rather than alias/aws/kinesis.
                encryption_type="KMS",
                kms_key_id=args.data_key_arn,
                shard_level_metrics=list(SHARD_LEVEL_METRICS) if args.settings.enhanced_monitoring else None,
                # Deleting a stream with registered consumers must be a decision, not a side effect.
                enforce_consumer_deletion=False,
                region=context.region,
                tags=conv.tags(physical, {"stream": stream.name}),
                opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
            )
        self.destinations = {}
        for table, stream_name in args.settings.change_streams.items():
            target = self.streams[stream_name]
            self.destinations[table] = aws.dynamodb.KinesisStreamingDestination(
                f"{name}-{table}-to-{stream_name}",
                table_name=args.source_tables[table],
                stream_arn=target.arn,
                # Record times to the microsecond: ordering of changes within a second survives.
                approximate_creation_date_time_precision="MICROSECOND",
                region=context.region,
                opts=pulumi.ResourceOptions(parent=target),
            )
        self.register_outputs({
            "streamNames": {k: s.name for k, s in self.streams.items()},
            "streamArns": {k: s.arn for k, s in self.streams.items()},
        })

    def stream(self, name: str) -> aws.kinesis.Stream:
        try:
            return self.streams[name]
        except KeyError:
            raise KeyError(f"no stream {name!r}; streams: {', '.join(self.streams)}") from None

    def stream_arn(self, name: str) -> pulumi.Output[str]:
        return self.stream(name).arn

    @property
    def key_arn(self) -> pulumi.Output[str]:
        return self._key_arn

    def grant_put(self, role: aws.iam.Role, stream: str) -> aws.iam.RolePolicy:
        """Put-record rights on ``stream`` only (a producer that declares it)."""
        document = pulumi.Output.all(self.stream(stream).arn, self._key_arn).apply(
            lambda values: stream_put_policy(values[0], values[1], self._region))
        return attach(f"{self._name}-{stream}-put-{role._name}", role, document, parent=role)

    def grant_read(self, role: aws.iam.Role, stream: str) -> aws.iam.RolePolicy:
        """Read rights on ``stream`` only (a consumer that declares it)."""
        document = pulumi.Output.all(self.stream(stream).arn, self._key_arn).apply(
            lambda values: stream_read_policy(values[0], values[1], self._region))
        return attach(f"{self._name}-{stream}-read-{role._name}", role, document, parent=role)
