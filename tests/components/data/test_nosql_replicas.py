"""NoSqlTables as global tables: a replica of every table in the DR region, and the DR slice's
grants on those replicas (TableReplicaGrants), built alone under the mocks."""

from __future__ import annotations

import json
from typing import Any

import pulumi_aws as aws
import pytest

from blueprint import ResourceGraph
from blueprint.synth import run_program
from components.common.conventions import Conventions
from components.data.nosql_tables import (
    READ_ACTIONS,
    REPLICATION_STREAM_VIEW,
    STREAM_READ_ACTIONS,
    WRITE_ACTIONS,
    NoSqlTables,
    NoSqlTablesArgs,
    TableReplica,
)
from components.data.settings import NoSqlConfig
from config.presets import DEFAULT_TABLES
from tests.support import stack_context

REGION, DR_REGION = "eu-west-1", "eu-central-1"
ACCOUNT_ID = "210987654321"
KEY_ARN = f"arn:aws:kms:{REGION}:{ACCOUNT_ID}:key/mrk-11112222333344445555666677778888"
DR_KEY_ARN = f"arn:aws:kms:{DR_REGION}:{ACCOUNT_ID}:key/mrk-11112222333344445555666677778888"
TABLE = "aws:dynamodb/table:Table"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": "ec2.amazonaws.com"}}]})


def build(tables: list[dict[str, Any]] = DEFAULT_TABLES, *, replica: bool = True, protect: bool = True,
          grants: bool = True) -> ResourceGraph:
    context = stack_context(conventions=Conventions("prod", "o", "c", "internal", "prod"), region=REGION,
                            account_id=ACCOUNT_ID, protect=protect)

    def program() -> None:
        component = NoSqlTables("tables", context, NoSqlTablesArgs(
            settings=NoSqlConfig.model_validate({"tables": tables}), data_key_arn=KEY_ARN,
            replica=TableReplica(DR_REGION, DR_KEY_ARN) if replica else None))
        if grants:
            view = component.replica_view()
            role = aws.iam.Role("dr-storefront", assume_role_policy=TRUST)
            view.grant_read(role, "carts")
            view.grant_read_write(role, "orders")
            view.grant_stream_read(role, "inventory")

    return run_program(program, project="retail", stack="prod", config={"aws:region": REGION})


def tables(graph: ResourceGraph) -> dict[str, Any]:
    return {t.inputs["tags"]["table"]: t for t in graph.of_type(TABLE)}


def grant(graph: ResourceGraph, table: str, access: str) -> dict[str, Any]:
    return json.loads(graph.one(ROLE_POLICY, f"tables-{DR_REGION}-{table}-{access}-dr-storefront")
                      .inputs["policy"])


def test_every_table_has_one_replica_in_the_dr_region_with_the_dr_key_pitr_and_deletion_protection():
    by_name = tables(build())
    assert set(by_name) == {"carts", "sessions", "inventory", "orders"}
    for table in by_name.values():
        assert table.region == REGION
        assert table.inputs["replicas"] == [{"regionName": DR_REGION, "kmsKeyArn": DR_KEY_ARN,
                                             "pointInTimeRecovery": True, "deletionProtectionEnabled": True,
                                             "propagateTags": True}]
        # The table itself keeps the primary's key.
        assert table.inputs["serverSideEncryption"]["kmsKeyArn"] == KEY_ARN


def test_replicas_are_deletion_protected_only_where_the_stack_protects():
    for table in tables(build(protect=False, grants=False)).values():
        assert table.inputs["replicas"][0]["deletionProtectionEnabled"] is False


def test_every_global_table_streams_new_and_old_images():
    for table in tables(build()).values():
        assert table.inputs["streamEnabled"] is True
        assert table.inputs["streamViewType"] == REPLICATION_STREAM_VIEW == "NEW_AND_OLD_IMAGES"


def test_without_a_replica_tables_keep_their_configured_stream_and_no_replicas():
    by_name = tables(build(replica=False, grants=False))
    assert by_name["carts"].inputs["streamEnabled"] is False
    assert "streamViewType" not in by_name["carts"].inputs
    assert all("replicas" not in t.inputs for t in by_name.values())


def test_a_table_asking_another_stream_view_is_refused_naming_it_and_the_fix():
    changed = [{**t, "stream": "KEYS_ONLY"} if t["name"] == "inventory" else t for t in DEFAULT_TABLES]
    with pytest.raises(Exception, match=r"table 'inventory' asks for stream 'KEYS_ONLY'.*set `stream: "
                                        r"NEW_AND_OLD_IMAGES` for it in retail:nosql.tables"):
        build(changed, grants=False)
    # The same view is fine without a replica.
    assert tables(build(changed, replica=False, grants=False))["inventory"].inputs["streamViewType"] == "KEYS_ONLY"


def test_replica_read_grant_names_the_replica_arn_and_the_dr_key_through_dynamodb_in_the_dr_region():
    document = grant(build(), "carts", "read")
    items, kms = document["Statement"]
    replica = f"arn:aws:dynamodb:{DR_REGION}:{ACCOUNT_ID}:table/retail-prod-carts"
    assert items["Resource"] == [replica, f"{replica}/index/*"]
    assert items["Action"] == sorted(READ_ACTIONS)
    assert kms["Resource"] == [DR_KEY_ARN]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": f"dynamodb.{DR_REGION}.amazonaws.com"}}


def test_replica_read_write_and_stream_grants_stay_in_the_dr_region():
    graph = build()
    items, kms = grant(graph, "orders", "read-write")["Statement"]
    replica = f"arn:aws:dynamodb:{DR_REGION}:{ACCOUNT_ID}:table/retail-prod-orders"
    assert items["Resource"] == [replica, f"{replica}/index/*"]
    assert set(items["Action"]) == set(READ_ACTIONS) | set(WRITE_ACTIONS)
    assert kms["Resource"] == [DR_KEY_ARN]
    assert kms["Condition"]["StringEquals"]["kms:ViaService"] == f"dynamodb.{DR_REGION}.amazonaws.com"
    read, _, stream_kms = grant(graph, "inventory", "stream-read")["Statement"]
    stream_table = f"arn:aws:dynamodb:{DR_REGION}:{ACCOUNT_ID}:table/retail-prod-inventory"
    assert read["Resource"] == [f"{stream_table}/stream/*"]
    assert read["Action"] == sorted(STREAM_READ_ACTIONS)
    assert stream_kms["Resource"] == [DR_KEY_ARN]
    every = json.dumps([grant(graph, t, a) for t, a in
                        (("carts", "read"), ("orders", "read-write"), ("inventory", "stream-read"))])
    assert REGION not in every
    assert "retail-prod-dr-" not in every


def test_the_replica_view_creates_no_table():
    graph = build()
    assert len(graph.of_type(TABLE)) == len(DEFAULT_TABLES)


def test_replica_view_refuses_streamless_tables_unknown_tables_and_tables_without_replica():
    errors: list[str] = []
    context = stack_context(conventions=Conventions("prod", "o", "c", "internal", "prod"), region=REGION)

    def program() -> None:
        settings = NoSqlConfig.model_validate({"tables": DEFAULT_TABLES})
        replicated = NoSqlTables("tables", context, NoSqlTablesArgs(
            settings=settings, data_key_arn=KEY_ARN, replica=TableReplica(DR_REGION, DR_KEY_ARN)))
        alone = NoSqlTables("alone", context.for_dr(DR_REGION), NoSqlTablesArgs(settings=settings,
                                                                                 data_key_arn=DR_KEY_ARN))
        role = aws.iam.Role("reader", assume_role_policy=TRUST)
        view = replicated.replica_view()
        for attempt in (lambda: view.grant_stream_read(role, "carts"), lambda: view.grant_read(role, "basket"),
                        alone.replica_view):
            try:
                attempt()
            except (KeyError, ValueError) as exc:
                errors.append(str(exc))

    run_program(program, project="retail", stack="prod", config={"aws:region": REGION})
    assert errors == [
        "table 'carts' has no stream; set `stream` for it in retail:nosql.tables",
        "\"no table 'basket'; tables: carts, sessions, inventory, orders\"",
        "tables 'alone' have no replica; set NoSqlTablesArgs.replica (a replicating retail:dr strategy) before "
        "asking for the replicas' grants",
    ]


def test_a_replica_key_of_another_region_and_a_replica_in_the_own_region_are_refused():
    with pytest.raises(ValueError, match=r"TableReplica.key_arn .* is not a key of 'eu-central-1'"):
        TableReplica(DR_REGION, KEY_ARN)
    with pytest.raises(ValueError, match=r"TableReplica\.region is empty"):
        TableReplica("", DR_KEY_ARN)
    context = stack_context(conventions=Conventions("prod", "o", "c", "internal", "prod"), region=REGION)

    def program() -> None:
        NoSqlTables("tables", context, NoSqlTablesArgs(
            settings=NoSqlConfig.model_validate({"tables": DEFAULT_TABLES}), data_key_arn=KEY_ARN,
            replica=TableReplica(REGION, KEY_ARN)))

    with pytest.raises(Exception, match=r"replica\.region is the tables' own region 'eu-west-1'"):
        run_program(program, project="retail", stack="prod", config={"aws:region": REGION})
