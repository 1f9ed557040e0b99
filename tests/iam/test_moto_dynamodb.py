"""DynamoDB in moto: the prod tables created from the program's inputs read back as sent, and
the table grants evaluated against the ARNs moto gives those tables.

moto authorises DynamoDB calls against resource "*", so a table-scoped grant cannot be
enforced end to end: IAM validates each grant, and moto's evaluator judges it (conftest.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.iam.access_control import PermissionResult

from blueprint import ResourceGraph
from components.data.nosql_tables import (
    READ_ACTIONS,
    STREAM_READ_ACTIONS,
    WRITE_ACTIONS,
    table_read_policy,
    table_read_write_policy,
    table_stream_read_policy,
)

PERMITTED = PermissionResult.PERMITTED
TABLE = "aws:dynamodb/table:Table"
ADMIN_ACTIONS = ("dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateBackup",
                 "dynamodb:RestoreTableToPointInTime", "dynamodb:UpdateTimeToLive")


def table_inputs(graph: ResourceGraph) -> dict[str, dict[str, Any]]:
    return {t.inputs["name"]: dict(t.inputs) for t in graph.of_type(TABLE)}


def create_request(inputs: dict[str, Any], api) -> dict[str, Any]:
    """CreateTable as the provider sends it from these inputs (PITR and TTL are separate calls)."""
    keys = [{"AttributeName": inputs["hashKey"], "KeyType": "HASH"}]
    if inputs.get("rangeKey"):
        keys.append({"AttributeName": inputs["rangeKey"], "KeyType": "RANGE"})
    sse = inputs["serverSideEncryption"]
    request = {
        "TableName": inputs["name"],
        "BillingMode": inputs["billingMode"],
        "KeySchema": keys,
        "AttributeDefinitions": [{"AttributeName": a["name"], "AttributeType": a["type"]}
                                 for a in inputs["attributes"]],
        "SSESpecification": {"Enabled": sse["enabled"], "SSEType": "KMS", "KMSMasterKeyId": sse["kmsKeyArn"]},
        "DeletionProtectionEnabled": inputs["deletionProtectionEnabled"],
        "Tags": [{"Key": k, "Value": v} for k, v in inputs["tags"].items()],
    }
    if inputs.get("streamEnabled"):
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": inputs["streamViewType"]}
    if inputs.get("globalSecondaryIndexes"):
        request["GlobalSecondaryIndexes"] = [
            {"IndexName": index["name"], "KeySchema": api(index["keySchemas"]),
             "Projection": {"ProjectionType": index["projectionType"]}}
            for index in inputs["globalSecondaryIndexes"]]
    return request


def create_tables(aws, graph: ResourceGraph, api) -> dict[str, dict[str, Any]]:
    """Every prod table in moto, with PITR and TTL as the program asks; the descriptions by name."""
    ddb = aws.client("dynamodb")
    described = {}
    for name, inputs in table_inputs(graph).items():
        ddb.create_table(**create_request(inputs, api))
        pitr = inputs["pointInTimeRecovery"]
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": pitr["enabled"], "RecoveryPeriodInDays": int(pitr["recoveryPeriodInDays"])})
        if inputs.get("ttl"):
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=api(inputs["ttl"]))
        described[name] = ddb.describe_table(TableName=name)["Table"]
    return described


@pytest.fixture
def tables(aws, prod, api) -> dict[str, dict[str, Any]]:
    return create_tables(aws, prod, api)


# -- settings round trip ------------------------------------------------------------------------

def test_every_prod_table_is_created(prod, tables):
    assert set(tables) == set(prod.outputs["tableNames"].values())


def test_keys_and_attributes_read_back(prod, api, tables, project):
    sent = {name: {k: create_request(inputs, api)[k] for k in ("KeySchema", "AttributeDefinitions")}
            for name, inputs in table_inputs(prod).items()}
    assert {name: project(tables[name], keys) for name, keys in sent.items()} == sent


def test_tables_are_on_demand_and_protected_from_deletion(tables):
    read = {name: (t["BillingModeSummary"]["BillingMode"], t["DeletionProtectionEnabled"])
            for name, t in tables.items()}
    assert read == dict.fromkeys(tables, ("PAY_PER_REQUEST", True))


def test_tables_are_encrypted_with_the_data_key(prod, tables):
    key = prod.outputs["kmsKeyArns"]["data"]
    assert {name: t["SSEDescription"] for name, t in tables.items()} == \
        {name: {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": key} for name in tables}


def test_point_in_time_recovery_reads_back_with_its_window(aws, prod, tables):
    ddb = aws.client("dynamodb")
    read = {name: ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"] for name in tables}
    assert {name: (d["ContinuousBackupsStatus"], d["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"],
                   d["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"]) for name, d in read.items()} == \
        {name: ("ENABLED", "ENABLED", int(i["pointInTimeRecovery"]["recoveryPeriodInDays"]))
         for name, i in table_inputs(prod).items()}


def test_time_to_live_reads_back_where_set(aws, prod, tables):
    ddb = aws.client("dynamodb")
    expected = {name: {"TimeToLiveStatus": "ENABLED", "AttributeName": i["ttl"]["attributeName"]}
                if i.get("ttl") else {"TimeToLiveStatus": "DISABLED"} for name, i in table_inputs(prod).items()}
    assert {name: ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] for name in tables} == expected
    assert any(i.get("ttl") for i in table_inputs(prod).values())


def test_streams_read_back_where_set(prod, tables):
    expected = {name: {"StreamEnabled": True, "StreamViewType": i["streamViewType"]} if i["streamEnabled"] else None
                for name, i in table_inputs(prod).items()}
    assert {name: t.get("StreamSpecification") for name, t in tables.items()} == expected
    assert all(t["LatestStreamArn"].startswith(f"{t['TableArn']}/stream/") for t in tables.values()
               if t.get("StreamSpecification"))


def test_global_secondary_indexes_read_back(prod, api, tables, project):
    sent = {name: create_request(i, api).get("GlobalSecondaryIndexes", []) for name, i in table_inputs(prod).items()}
    assert {name: project(tables[name].get("GlobalSecondaryIndexes", []), gsis) for name, gsis in sent.items()} == sent
    assert any(sent.values())


def tags_of(ddb, arn: str) -> dict[str, str]:
    """Every tag of a table: ListTagsOfResource pages (moto by 10; the DR tags take prod past it)."""
    tags, page = {}, {"ResourceArn": arn}
    while True:
        response = ddb.list_tags_of_resource(**page)
        tags.update({t["Key"]: t["Value"] for t in response["Tags"]})
        if not response.get("NextToken"):
            return tags
        page["NextToken"] = response["NextToken"]


def test_tags_read_back(aws, prod, tables):
    ddb = aws.client("dynamodb")
    read = {name: tags_of(ddb, d["TableArn"]) for name, d in tables.items()}
    assert read == {name: i["tags"] for name, i in table_inputs(prod).items()}
    # More than one page: the DR strategy's tags and the backup selection tag are on every table.
    dr = {"dr-strategy": prod.outputs["drStrategy"], "dr-region": prod.outputs["drRegion"],
          "backup": f"retail-{prod.stack}"}
    assert all(len(tags) > 10 and {k: tags.get(k) for k in dr} == dr for tags in read.values())


def test_deletion_protection_holds_in_moto(aws, tables):
    name = next(iter(tables))
    with pytest.raises(ClientError, match="DeletionProtectionEnabled"):
        aws.client("dynamodb").delete_table(TableName=name)


# -- grants -----------------------------------------------------------------------------------

def with_index(tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (table,) = [t for t in tables.values() if t.get("GlobalSecondaryIndexes")][:1]
    return table


def with_stream(tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (table,) = [t for t in tables.values() if t.get("LatestStreamArn")][:1]
    return table


def other_than(tables: dict[str, dict[str, Any]], table: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in tables.values() if t["TableName"] != table["TableName"])


def via(service: str, region: str) -> dict[str, str]:
    return {"kms:ViaService": f"{service}.{region}.amazonaws.com"}


GRANTS = {
    "read": (table_read_policy, READ_ACTIONS, ("kms:Decrypt",)),
    "read_write": (table_read_write_policy, READ_ACTIONS + WRITE_ACTIONS,
                   ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom")),
}
KEY_USES = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:CreateGrant",
            "kms:ScheduleKeyDeletion")


@pytest.mark.parametrize("grant", GRANTS)
def test_iam_accepts_the_table_grant(aws, prod, tables, grant):
    table = with_index(tables)
    aws.accepts_role_policy(GRANTS[grant][0](table["TableArn"], prod.outputs["kmsKeyArns"]["data"], aws.region))


@pytest.mark.parametrize("grant", GRANTS)
def test_table_grant_allows_exactly_its_item_actions_on_its_table_and_indexes(prod, moto_eval, tables, grant):
    build, granted, _ = GRANTS[grant]
    table = with_index(tables)
    policy = build(table["TableArn"], prod.outputs["kmsKeyArns"]["data"], prod.region)
    # moto's DescribeTable gives no IndexArn; AWS's is the table ARN + /index/<name>.
    index = f"{table['TableArn']}/index/{table['GlobalSecondaryIndexes'][0]['IndexName']}"
    every = READ_ACTIONS + WRITE_ACTIONS + ADMIN_ACTIONS
    assert {a: moto_eval(policy, a, table["TableArn"]) is PERMITTED for a in every} == \
        {a: a in granted for a in every}
    assert {a: moto_eval(policy, a, index) is PERMITTED for a in ("dynamodb:Query", "dynamodb:Scan")} == \
        dict.fromkeys(("dynamodb:Query", "dynamodb:Scan"), True)


@pytest.mark.parametrize("grant", GRANTS)
def test_table_grant_reaches_no_other_table(prod, moto_eval, tables, grant):
    build, granted, _ = GRANTS[grant]
    table = with_index(tables)
    other = other_than(tables, table)
    policy = build(table["TableArn"], prod.outputs["kmsKeyArns"]["data"], prod.region)
    resources = (other["TableArn"], f"{other['TableArn']}/index/byAnything",
                 # a table whose name starts with this one's: the ARN is not a prefix match
                 f"{table['TableArn']}-archive")
    assert [(a, r) for a in granted for r in resources if moto_eval(policy, a, r) is PERMITTED] == []


@pytest.mark.parametrize("grant", GRANTS)
def test_table_grant_uses_the_data_key_only_through_dynamodb(prod, moto_eval, tables, grant):
    build, _, key_uses = GRANTS[grant]
    key, logs_key = prod.outputs["kmsKeyArns"]["data"], prod.outputs["kmsKeyArns"]["logs"]
    policy = build(with_index(tables)["TableArn"], key, prod.region)
    assert {a: moto_eval(policy, a, key, context=via("dynamodb", prod.region)) is PERMITTED for a in KEY_USES} == \
        {a: a in key_uses for a in KEY_USES}
    # moto treats a missing kms:ViaService as satisfied, so the wrong service stands for "not via DynamoDB".
    assert [a for a in KEY_USES if moto_eval(policy, a, key, context=via("s3", prod.region)) is PERMITTED] == []
    assert [a for a in KEY_USES if moto_eval(policy, a, logs_key, context=via("dynamodb", prod.region))
            is PERMITTED] == []


def stream_grant(prod, tables) -> tuple[dict[str, Any], dict[str, Any]]:
    table = with_stream(tables)
    policy = table_stream_read_policy(table["TableArn"], table["LatestStreamArn"],
                                      prod.outputs["kmsKeyArns"]["data"], prod.region)
    return table, policy


def test_iam_accepts_the_stream_grant(aws, prod, tables):
    aws.accepts_role_policy(stream_grant(prod, tables)[1])


def test_stream_grant_reads_its_tables_stream_and_nothing_else(prod, moto_eval, tables):
    table, policy = stream_grant(prod, tables)
    stream = table["LatestStreamArn"]
    assert {a: moto_eval(policy, a, stream) is PERMITTED for a in STREAM_READ_ACTIONS} == \
        dict.fromkeys(STREAM_READ_ACTIONS, True)
    assert moto_eval(policy, "dynamodb:ListStreams", f"{table['TableArn']}/stream/*") is PERMITTED
    item_actions = READ_ACTIONS + WRITE_ACTIONS + ADMIN_ACTIONS
    assert [a for a in item_actions if moto_eval(policy, a, table["TableArn"]) is PERMITTED] == []
    other = other_than(tables, table)
    other_stream = f"{other['TableArn']}/stream/2025-01-01T00:00:00.000"
    assert [a for a in STREAM_READ_ACTIONS if moto_eval(policy, a, other_stream) is PERMITTED] == []


def test_stream_grant_decrypts_only_through_dynamodb(prod, moto_eval, tables):
    _, policy = stream_grant(prod, tables)
    key = prod.outputs["kmsKeyArns"]["data"]
    assert {a: moto_eval(policy, a, key, context=via("dynamodb", prod.region)) is PERMITTED for a in KEY_USES} == \
        {a: a == "kms:Decrypt" for a in KEY_USES}
    assert moto_eval(policy, "kms:Decrypt", key, context=via("s3", prod.region)) is not PERMITTED
