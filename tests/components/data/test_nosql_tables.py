"""DynamoDB tables: on-demand, recoverable, encrypted with our key, hard to delete in prod."""

from __future__ import annotations

import pytest
from pulumi import RunError

from components.common.settings import Environment
from components.data.nosql_tables import (
    PITR_RECOVERY_DAYS,
    READ_ACTIONS,
    REPLICATION_STREAM_VIEW,
    STREAM_READ_ACTIONS,
    WRITE_ACTIONS,
    table_read_policy,
    table_read_write_policy,
    table_stream_read_policy,
)
from components.data.settings import NoSqlConfig
from config.presets import DEFAULT_TABLES, PRESETS
from tests.support import stack_context

TABLE = "aws:dynamodb/table:Table"
TABLE_ARN = "arn:aws:dynamodb:eu-west-1:123456789012:table/retail-prod-carts"
KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"


def tables(graph) -> dict:
    return {t.inputs["tags"]["table"]: t for t in graph.of_type(TABLE)}


def test_the_retail_tables_exist_in_every_stack(stack_graph):
    assert set(tables(stack_graph)) == {t["name"] for t in DEFAULT_TABLES} == {"carts", "sessions", "inventory",
                                                                              "orders"}
    for name, table in tables(stack_graph).items():
        assert table.inputs["name"] == f"retail-{stack_graph.stack}-{name}"


def test_tables_are_on_demand_recoverable_and_encrypted_with_our_data_key(stack_graph):
    data_key = stack_graph.one("aws:kms/key:Key", "keys-data")
    for table in stack_graph.of_type(TABLE):
        assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True, "recoveryPeriodInDays": PITR_RECOVERY_DAYS}
        assert table.inputs["serverSideEncryption"] == {
            "enabled": True, "kmsKeyArn": stack_graph.outputs["kmsKeyArns"]["data"]}
        assert table.property_dependencies["serverSideEncryption"] == (data_key.urn,)


def test_carts_and_sessions_expire_and_inventory_streams(graph_of):
    by_name = tables(graph_of("prod"))
    dr_region = graph_of("prod").outputs["drRegion"]
    for name in ("carts", "sessions"):
        assert by_name[name].inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
        # No stream of their own: prod's carry only the one their global table replicates through.
        assert by_name[name].inputs["streamEnabled"] is True
        assert by_name[name].inputs["streamViewType"] == REPLICATION_STREAM_VIEW
        assert [r["regionName"] for r in by_name[name].inputs["replicas"]] == [dr_region]
    for name, table in tables(graph_of("staging")).items():
        if name in ("carts", "sessions"):
            assert table.inputs["streamEnabled"] is False and "streamViewType" not in table.inputs
            assert "replicas" not in table.inputs
    inventory = by_name["inventory"]
    assert inventory.inputs["streamEnabled"] is True
    assert inventory.inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert (inventory.inputs["hashKey"], inventory.inputs["rangeKey"]) == ("sku", "warehouseId")
    assert "ttl" not in inventory.inputs


def test_index_keys_are_declared_once_with_their_types(graph_of):
    orders = tables(graph_of("prod"))["orders"]
    assert sorted(orders.inputs["attributes"], key=lambda a: a["name"]) == [
        {"name": "createdAt", "type": "S"}, {"name": "customerId", "type": "S"}, {"name": "orderId", "type": "S"}]
    (index,) = orders.inputs["globalSecondaryIndexes"]
    assert index["name"] == "byCustomer" and index["projectionType"] == "ALL"
    assert index["keySchemas"] == [{"attributeName": "customerId", "keyType": "HASH"},
                                   {"attributeName": "createdAt", "keyType": "RANGE"}]


@pytest.mark.parametrize("stack, protected", [("dev", False), ("staging", False), ("prod", True)])
def test_tables_are_protected_and_deletion_protected_in_prod_only(graph_of, stack, protected):
    for table in graph_of(stack).of_type(TABLE):
        assert table.protect is protected
        assert table.inputs["deletionProtectionEnabled"] is protected


def test_a_stack_can_replace_the_table_list(synth_with):
    services = [{**service, "uses": {**service["uses"], "tables": {}}}
                for service in PRESETS[Environment.dev]["services"]]
    wishlists = {"tables": [{"name": "wishlists", "partitionKey": {"name": "customerId", "type": "S"},
                             "sortKey": {"name": "sku", "type": "S"}}]}
    # The preset streams the inventory table's changes: without the table, the stack says so.
    with pytest.raises(RunError, match=r"retail:streams.changeStreams.inventory: 'inventory' is not a table"):
        synth_with("dev", nosql=wishlists, services=services)
    graph = synth_with("dev", nosql=wishlists, services=services, streams={"changeStreams": {}})
    (table,) = graph.of_type(TABLE)
    assert table.inputs["name"] == "retail-dev-wishlists"


def test_read_grant_reads_one_table_and_its_indexes_only():
    document = table_read_policy(TABLE_ARN, KEY_ARN, "eu-west-1")
    items, kms = document["Statement"]
    assert items["Action"] == sorted(READ_ACTIONS)
    assert items["Resource"] == [TABLE_ARN, f"{TABLE_ARN}/index/*"]
    assert not set(items["Action"]) & set(WRITE_ACTIONS)
    assert kms["Action"] == ["kms:Decrypt"] and kms["Resource"] == [KEY_ARN]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": "dynamodb.eu-west-1.amazonaws.com"}}


def test_read_write_grant_adds_item_writes_but_no_table_administration():
    items, kms = table_read_write_policy(TABLE_ARN, KEY_ARN, "eu-west-1")["Statement"]
    assert set(items["Action"]) == set(READ_ACTIONS) | set(WRITE_ACTIONS)
    assert not any(a in items["Action"] for a in ("dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:*"))
    assert "kms:GenerateDataKey" in kms["Action"] and kms["Resource"] == [KEY_ARN]


def test_stream_grant_reads_the_stream_only():
    stream = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
    read, list_streams, kms = table_stream_read_policy(TABLE_ARN, stream, KEY_ARN, "eu-west-1")["Statement"]
    assert read["Action"] == sorted(STREAM_READ_ACTIONS) and read["Resource"] == [stream]
    # ListStreams cannot be scoped by IAM; it returns stream ARNs, never data.
    assert list_streams["Action"] == ["dynamodb:ListStreams"] and list_streams["Resource"] == ["*"]
    assert kms["Action"] == ["kms:Decrypt"]


def test_unknown_table_and_streamless_table_grants_fail_clearly():
    from blueprint.synth import run_program
    from components.common.conventions import Conventions
    from components.data.nosql_tables import NoSqlTables, NoSqlTablesArgs

    errors: list[str] = []

    def program() -> None:
        import pulumi_aws as aws

        component = NoSqlTables("tables",
            stack_context(conventions=Conventions("dev", "o", "c", "internal", "dev"), region="eu-west-1"),
            NoSqlTablesArgs(
                settings=NoSqlConfig.model_validate({"tables": DEFAULT_TABLES}),
                data_key_arn=KEY_ARN,
            ))
        role = aws.iam.Role("reader", assume_role_policy="{}")
        for grant in (lambda: component.grant_read(role, "basket"),
                      lambda: component.grant_stream_read(role, "carts")):
            try:
                grant()
            except (KeyError, ValueError) as exc:
                errors.append(str(exc))

    run_program(program, project="retail", stack="dev", config={"aws:region": "eu-west-1"})
    assert errors == ["\"no table 'basket'; tables: carts, sessions, inventory, orders\"",
                      "table 'carts' has no stream; set `stream` for it in retail:nosql.tables"]
