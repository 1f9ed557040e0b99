"""The data lake: each stream delivered by Firehose into the data-lake bucket as Parquet
(through the stream's Glue table), date-partitioned, encrypted with the data key; the Glue
database and tables that describe it; an Athena workgroup whose settings queries cannot
override, with KMS-encrypted results under their own prefix.

Each delivery stream has its own role, which may read only its stream, write only under its
own raw and error prefixes, read only its own Glue table, log only to its log group, and use
the data key only through Kinesis and S3 (:func:`firehose_delivery_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.analytics.settings import LakeConfig
from components.analytics.streams import Streams
from components.common.context import StackContext
from components.common.grants import (
    KMS_DECRYPT,
    KMS_ENCRYPT,
    attach,
    kms_via_service,
    policy_document,
    service_trust_policy,
    statement,
)
from components.common.logs import log_group

FIREHOSE_PRINCIPAL = "firehose.amazonaws.com"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT_FORMAT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
#: The date partitions of every raw table, as Firehose's prefix writes them (Hive style).
PARTITIONS = ("year", "month", "day")
DATE_PARTITIONED = "year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
LOG_STREAM = "DestinationDelivery"

KINESIS_SOURCE_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
S3_DELIVERY_OBJECT_ACTIONS = ("s3:AbortMultipartUpload", "s3:PutObject")
S3_DELIVERY_BUCKET_ACTIONS = ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads")
GLUE_SCHEMA_ACTIONS = ("glue:GetTable", "glue:GetTableVersion", "glue:GetTableVersions")


def glue_name(text: str) -> str:
    """Glue and Athena names: lower case and '_' (a '-' needs quoting in every query)."""
    return text.replace("-", "_")


def raw_prefix(settings: LakeConfig, stream: str) -> str:
    return f"{settings.raw_prefix}{stream}/"


def error_prefix(settings: LakeConfig, stream: str) -> str:
    return f"{settings.error_prefix}{stream}/"


def glue_arns(partition: str, region: str, account_id: str, database: str, table: str) -> list[str]:
    base = f"arn:{partition}:glue:{region}:{account_id}"
    return [f"{base}:catalog", f"{base}:database/{database}", f"{base}:table/{database}/{table}"]


def firehose_delivery_policy(*, stream_arn: str, bucket_arn: str, key_arn: str, log_group_arn: str,
                             glue_resources: list[str], raw: str, errors: str, region: str) -> dict[str, Any]:
    """One delivery stream's rights: its source stream, its two prefixes, its Glue table, its
    log group, and the data key through Kinesis (to read) and S3 (to write)."""
    return policy_document(
        statement("ReadSourceStream", KINESIS_SOURCE_ACTIONS, [stream_arn]),
        kms_via_service("DecryptThroughKinesis", key_arn, KMS_DECRYPT, "kinesis", region),
        statement("LocateBucket", S3_DELIVERY_BUCKET_ACTIONS, [bucket_arn]),
        statement("WriteOwnPrefixes", S3_DELIVERY_OBJECT_ACTIONS, [f"{bucket_arn}/{raw}*", f"{bucket_arn}/{errors}*"]),
        kms_via_service("EncryptThroughS3", key_arn, KMS_ENCRYPT, "s3", region),
        statement("ReadSchema", GLUE_SCHEMA_ACTIONS, glue_resources),
        statement("WriteDeliveryLogs", ["logs:PutLogEvents"], [f"{log_group_arn}:log-stream:*"]),
    )


@dataclass(frozen=True)
class LakeArgs:
    settings: LakeConfig
    streams: Streams
    """The streams to deliver: one Glue table and one delivery stream each."""
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    """The data-lake bucket (ObjectStore's ``data-lake`` purpose)."""
    data_key_arn: pulumi.Input[str]
    """The data key: the lake's objects, and Athena's results."""
    logs_key_arn: pulumi.Input[str]
    """The logs key: the delivery streams' log group."""
    log_retention_days: int


class Lake(pulumi.ComponentResource):
    """Firehose to Parquet per stream, the Glue catalog of the lake, and an Athena workgroup."""

    database: aws.glue.CatalogDatabase
    tables: dict[str, aws.glue.CatalogTable]
    roles: dict[str, aws.iam.Role]
    delivery_streams: dict[str, aws.kinesis.FirehoseDeliveryStream]
    workgroup: aws.athena.Workgroup

    def __init__(self, name: str, context: StackContext, args: LakeArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:analytics:Lake", name, None, opts)
        conv, settings, region = context.conventions, args.settings, context.region
        bucket_arn = pulumi.Output.from_input(args.bucket_arn)
        bucket_name = pulumi.Output.from_input(args.bucket_name)
        database_name = glue_name(conv.physical_name("lake", max_length=255))
        self.database_name = database_name
        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=database_name,
            description="The retail data lake: raw event tables delivered by Firehose.",
            region=region,
            tags=conv.tags(database_name),
            opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
        )
        self.logs = log_group(
            f"{name}-delivery-logs", context, name=f"/aws/kinesisfirehose/{conv.physical_name('lake')}",
            retention_days=args.log_retention_days, key_arn=args.logs_key_arn,
            tags=conv.tags(conv.physical_name("lake-delivery-logs")), parent=self)
        self.tables, self.roles, self.delivery_streams = {}, {}, {}
        for stream_config in args.streams.settings.streams:
            stream = stream_config.name
            table_name = glue_name(stream)
            table = aws.glue.CatalogTable(
                f"{name}-{stream}-table",
                name=table_name,
                database_name=self.database.name,
                table_type="EXTERNAL_TABLE",
                parameters={"EXTERNAL": "TRUE", "classification": "parquet", "parquet.compression": "SNAPPY"},
                partition_keys=[aws.glue.CatalogTablePartitionKeyArgs(name=p, type="string") for p in PARTITIONS],
                storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
                    location=bucket_name.apply(lambda b, s=stream: f"s3://{b}/{raw_prefix(settings, s)}"),
                    input_format=PARQUET_INPUT_FORMAT,
                    output_format=PARQUET_OUTPUT_FORMAT,
                    ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                        name=f"{table_name}-parquet", serialization_library=PARQUET_SERDE,
                        parameters={"serialization.format": "1"}),
                    columns=[aws.glue.CatalogTableStorageDescriptorColumnArgs(name=c, type=t)
                             for c, t in stream_config.record_columns()],
                ),
                region=region,
                opts=pulumi.ResourceOptions(parent=self.database, protect=context.protect),
            )
            self.tables[stream] = table
            role_name = conv.physical_name(f"lake-{stream}-delivery", max_length=64)
            role = aws.iam.Role(
                f"{name}-{stream}-delivery-role",
                name=role_name,
                assume_role_policy=pulumi.Output.from_input(context.account_id).apply(
                    lambda account: pulumi.Output.json_dumps(service_trust_policy(FIREHOSE_PRINCIPAL, account))),
                tags=conv.tags(role_name, {"stream": stream}),
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.roles[stream] = role
            source_arn = args.streams.stream_arn(stream)
            document = pulumi.Output.all(source_arn, bucket_arn, args.streams.key_arn, self.logs.arn,
                                         context.partition, context.account_id, self.database.name,
                                         table.name).apply(
                lambda v, s=stream: firehose_delivery_policy(
                    stream_arn=v[0], bucket_arn=v[1], key_arn=v[2], log_group_arn=v[3],
                    glue_resources=glue_arns(v[4], region, v[5], v[6], v[7]),
                    raw=raw_prefix(settings, s), errors=error_prefix(settings, s), region=region))
            grant = attach(f"{name}-{stream}-delivery", role, document, parent=role)
            # Firehose writes to a log stream it does not create.
            log_stream = aws.cloudwatch.LogStream(
                f"{name}-{stream}-delivery-log", name=f"{stream}-{LOG_STREAM}", log_group_name=self.logs.name,
                region=region, opts=pulumi.ResourceOptions(parent=self.logs))
            s3 = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs
            conversion = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationArgs
            inputs = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationArgs  # noqa: E501
            deserializer = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerArgs  # noqa: E501
            outputs = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationArgs  # noqa: E501
            serializer = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerArgs  # noqa: E501
            schema = aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationSchemaConfigurationArgs  # noqa: E501
            delivery_name = conv.physical_name(f"lake-{stream}", max_length=64)
            self.delivery_streams[stream] = aws.kinesis.FirehoseDeliveryStream(
                f"{name}-{stream}-delivery",
                name=delivery_name,
                destination="extended_s3",
                # Kinesis as source: the records are encrypted in the stream with our key (Kinesis.1);
                # Firehose refuses server_side_encryption for this source type.
                kinesis_source_configuration=aws.kinesis.FirehoseDeliveryStreamKinesisSourceConfigurationArgs(
                    kinesis_stream_arn=source_arn, role_arn=role.arn),
                extended_s3_configuration=s3(
                    bucket_arn=bucket_arn,
                    role_arn=role.arn,
                    prefix=f"{raw_prefix(settings, stream)}{DATE_PARTITIONED}",
                    error_output_prefix=f"{error_prefix(settings, stream)}!{{firehose:error-output-type}}/"
                                        f"{DATE_PARTITIONED}",
                    buffering_size=settings.buffering_size_mib,
                    buffering_interval=settings.buffering_interval_seconds,
                    kms_key_arn=args.data_key_arn,
                    cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                        enabled=True, log_group_name=self.logs.name, log_stream_name=log_stream.name),
                    data_format_conversion_configuration=conversion(
                        enabled=True,
                        input_format_configuration=inputs(deserializer=deserializer(
                            open_x_json_ser_de=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationInputFormatConfigurationDeserializerOpenXJsonSerDeArgs())),
                        output_format_configuration=outputs(serializer=serializer(
                            parquet_ser_de=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationDataFormatConversionConfigurationOutputFormatConfigurationSerializerParquetSerDeArgs(compression="SNAPPY"))),
                        schema_configuration=schema(
                            database_name=self.database.name, table_name=table.name, role_arn=role.arn,
                            region=region, version_id="LATEST"),
                    ),
                ),
                region=region,
                tags=conv.tags(delivery_name, {"stream": stream}),
                # The role must hold its grant before Firehose checks it at creation.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[grant]),
            )
        workgroup_name = conv.physical_name("lake", max_length=128)
        self.workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=workgroup_name,
            description="Queries over the retail data lake; results encrypted with the data key.",
            state="ENABLED",
            force_destroy=not context.protect,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                # Queries cannot choose another result location or turn encryption off.
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.bytes_scanned_cutoff_mib * 1024 * 1024,
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=bucket_name.apply(lambda b: f"s3://{b}/{settings.athena_results_prefix}"),
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_KMS", kms_key_arn=args.data_key_arn),
                ),
            ),
            region=region,
            tags=conv.tags(workgroup_name),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({
            "databaseName": self.database.name,
            "deliveryStreamNames": {k: d.name for k, d in self.delivery_streams.items()},
            "workgroupName": self.workgroup.name,
        })
