"""Streams and the lake, built alone under the project's mocks."""

from __future__ import annotations

import json
from functools import cache

import pulumi_aws as aws
import pytest
from pydantic import ValidationError

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.analytics.lake import Lake, LakeArgs
from components.analytics.settings import LakeConfig, StreamsConfig
from components.analytics.streams import PUT_ACTIONS, Streams, StreamsArgs
from components.common.conventions import Conventions
from policies import athena, firehose, kinesis
from policies.offline import ResourceSnapshot, evaluate
from policies.registry import POLICIES
from tests.support import stack_context

REGION = "eu-west-1"
DATA_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/11111111-2222-3333-4444-555555555555"
LOGS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/66666666-7777-8888-9999-000000000000"
BUCKET = "retail-prod-data-lake"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT_ID}:table/retail-prod-inventory"
STREAM = "aws:kinesis/stream:Stream"
DELIVERY = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"


@cache
def built(stack: str) -> ResourceGraph:
    prod = stack == "prod"

    def program() -> None:
        context = stack_context(Conventions(stack, "platform", "cc-1234", "confidential", stack),
                                region=REGION, protect=prod)
        streams = Streams("streams", context, StreamsArgs(
            StreamsConfig.model_validate({"enhancedMonitoring": prod, "streams": [
                {"name": "clickstream", "retentionHours": 168 if prod else 24}, {"name": "orders"},
                {"name": "inventory-changes"}]}),
            DATA_KEY, {"inventory": TABLE_ARN}))
        producer = aws.iam.Role("checkout", assume_role_policy="{}", tags=context.conventions.tags("checkout"))
        streams.grant_put(producer, "orders")
        Lake("lake", context, LakeArgs(LakeConfig(), streams, BUCKET, f"arn:aws:s3:::{BUCKET}", DATA_KEY,
                                       LOGS_KEY, 365))

    return run_program(program, project="retail", stack=stack, config={"aws:region": REGION})


def test_streams_are_on_demand_encrypted_with_our_key_and_keep_the_configured_retention():
    streams = {s.inputs["name"]: s for s in built("prod").of_type(STREAM)}
    assert set(streams) == {"retail-prod-clickstream", "retail-prod-orders", "retail-prod-inventory-changes"}
    for stream in streams.values():
        assert stream.inputs["streamModeDetails"] == {"streamMode": "ON_DEMAND"}
        assert (stream.inputs["encryptionType"], stream.inputs["kmsKeyId"]) == ("KMS", DATA_KEY)
        assert stream.inputs["region"] == REGION
    assert streams["retail-prod-clickstream"].inputs["retentionPeriod"] == 168


@pytest.mark.parametrize("stack, metrics", [("dev", False), ("prod", True)])
def test_shard_level_metrics_only_where_configured(stack, metrics):
    for stream in built(stack).of_type(STREAM):
        assert bool(stream.inputs.get("shardLevelMetrics")) is metrics


def test_the_inventory_table_streams_its_changes_to_the_inventory_stream():
    graph = built("prod")
    [destination] = graph.of_type("aws:dynamodb/kinesisStreamingDestination:KinesisStreamingDestination")
    assert destination.inputs["tableName"] == TABLE_ARN
    assert destination.inputs["streamArn"].endswith(":stream/retail-prod-inventory-changes")


def test_a_producer_may_put_only_on_its_stream_and_use_the_key_only_through_kinesis():
    [grant] = [p for p in built("prod").of_type("aws:iam/rolePolicy:RolePolicy") if "put-checkout" in p.name]
    document = json.loads(grant.inputs["policy"])
    put, key = document["Statement"]
    assert put["Action"] == sorted(PUT_ACTIONS)
    assert put["Resource"] == [f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/retail-prod-orders"]
    assert key["Resource"] == [DATA_KEY]
    assert key["Condition"] == {"StringEquals": {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com"}}


def test_each_delivery_writes_parquet_under_its_date_partitioned_prefix_with_our_key():
    deliveries = {d.inputs["name"]: d for d in built("prod").of_type(DELIVERY)}
    assert len(deliveries) == 3
    orders = deliveries["retail-prod-lake-orders"].inputs
    assert orders["kinesisSourceConfiguration"]["kinesisStreamArn"].endswith(":stream/retail-prod-orders")
    s3 = orders["extendedS3Configuration"]
    assert s3["bucketArn"] == f"arn:aws:s3:::{BUCKET}"
    assert s3["prefix"] == "raw/orders/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
    assert s3["errorOutputPrefix"].startswith("errors/orders/!{firehose:error-output-type}/")
    assert s3["kmsKeyArn"] == DATA_KEY
    assert (s3["bufferingSize"], s3["bufferingInterval"]) == (64, 300)
    conversion = s3["dataFormatConversionConfiguration"]
    assert conversion["enabled"] is True
    assert "parquetSerDe" in conversion["outputFormatConfiguration"]["serializer"]
    assert conversion["schemaConfiguration"]["tableName"] == "orders"
    assert conversion["schemaConfiguration"]["databaseName"] == "retail_prod_lake"
    assert s3["cloudwatchLoggingOptions"]["enabled"] is True
    # Each delivery has a role of its own.
    assert len({d.inputs["extendedS3Configuration"]["roleArn"] for d in deliveries.values()}) == 3


def test_the_delivery_log_group_is_ours_and_protected_in_prod():
    group = built("prod").one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["kmsKeyId"] == LOGS_KEY
    assert group.inputs["deletionProtectionEnabled"] is True


def test_glue_tables_are_parquet_and_date_partitioned():
    tables = {t.inputs["name"]: t.inputs for t in built("prod").of_type("aws:glue/catalogTable:CatalogTable")}
    assert set(tables) == {"clickstream", "orders", "inventory_changes"}
    orders = tables["orders"]
    assert orders["storageDescriptor"]["location"] == f"s3://{BUCKET}/raw/orders/"
    assert orders["storageDescriptor"]["serDeInfo"]["serializationLibrary"].endswith("ParquetHiveSerDe")
    assert [p["name"] for p in orders["partitionKeys"]] == ["year", "month", "day"]


def test_athena_enforces_encrypted_results_in_their_prefix():
    config = built("prod").one("aws:athena/workgroup:Workgroup").inputs["configuration"]
    assert config["enforceWorkgroupConfiguration"] is True
    result = config["resultConfiguration"]
    assert result["outputLocation"] == f"s3://{BUCKET}/athena-results/"
    assert result["encryptionConfiguration"] == {"encryptionOption": "SSE_KMS", "kmsKeyArn": DATA_KEY}
    assert config["bytesScannedCutoffPerQuery"] == 10240 * 1024 * 1024


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_components_pass_the_whole_pack_and_their_own_rules(stack):
    graph = built(stack)
    snapshots = [ResourceSnapshot(urn=r.urn, type=r.type, name=r.name, props=dict(r.inputs), protect=r.protect)
                 for r in graph.resources if r.type.startswith("aws:")]
    checked = {STREAM, DELIVERY, "aws:athena/workgroup:Workgroup"}
    assert len([s for s in snapshots if s.type in checked]) == 7
    policies = [*POLICIES, *kinesis.POLICIES, *firehose.POLICIES, *athena.POLICIES]
    assert evaluate(snapshots, policies).violations == []


def test_stateful_resources_are_protected_in_prod():
    graph = built("prod")
    for resource in [*graph.of_type(STREAM), *graph.of_type("aws:glue/catalogTable:CatalogTable")]:
        assert resource.protect is True


def test_settings_refuse_mistakes():
    with pytest.raises(ValidationError, match="has no built-in schema"):
        StreamsConfig.model_validate({"streams": [{"name": "payments"}]})
    with pytest.raises(ValidationError, match="not one of the streams"):
        StreamsConfig.model_validate({"streams": [{"name": "orders"}]})
    with pytest.raises(ValidationError, match="overlap"):
        LakeConfig.model_validate({"rawPrefix": "lake/", "errorPrefix": "lake/errors/"})
    with pytest.raises(ValidationError):
        LakeConfig.model_validate({"bufferingSizeMib": 32})
    with pytest.raises(ValidationError):
        StreamsConfig.model_validate({"retention": 1})
