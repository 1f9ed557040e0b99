"""DynamoDB tables: carts, sessions, inventory, orders, and whatever a stack adds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.common.context import StackContext
from components.common.grants import KMS_DECRYPT, KMS_ENCRYPT, attach, kms_via_service, policy_document, statement
from components.data.settings import KeyAttribute, NoSqlConfig, TableConfig

READ_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
)
WRITE_ACTIONS = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
STREAM_READ_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)

#: Point-in-time recovery keeps the longest window AWS offers: a silent corruption found late
#: can still be rolled back.
PITR_RECOVERY_DAYS = 35


def _table_resources(table_arn: str) -> list[str]:
    # Queries on an index are authorised against the index's ARN, not the table's.
    return [table_arn, f"{table_arn}/index/*"]


def table_read_policy(table_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """Read items (get, query, scan) of one table and its indexes."""
    return policy_document(
        statement("ReadItems", READ_ACTIONS, _table_resources(table_arn)),
        kms_via_service("DecryptThroughDynamoDb", key_arn, KMS_DECRYPT, "dynamodb", region),
    )


def table_read_write_policy(table_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """Read and write items of one table; no table administration (no DeleteTable)."""
    return policy_document(
        statement("ReadWriteItems", READ_ACTIONS + WRITE_ACTIONS, _table_resources(table_arn)),
        kms_via_service("EncryptThroughDynamoDb", key_arn, KMS_ENCRYPT, "dynamodb", region),
    )


def table_stream_read_policy(table_arn: str, stream_arn: str, key_arn: str, region: str) -> dict[str, Any]:
    """Consume one table's change stream (a Lambda or a Kinesis-style reader)."""
    return policy_document(
        statement("ReadStream", STREAM_READ_ACTIONS, [stream_arn]),
        # ListStreams takes no resource (IAM authorises it on "*" only) and returns stream
        # ARNs, not data; consumers such as Lambda's event source mapping call it.
        statement("ListStreams", ["dynamodb:ListStreams"], ["*"]),
        kms_via_service("DecryptThroughDynamoDb", key_arn, KMS_DECRYPT, "dynamodb", region),
    )


def _attributes(table: TableConfig) -> list[KeyAttribute]:
    keys = [table.partition_key, table.sort_key]
    for index in table.global_secondary_indexes:
        keys += [index.partition_key, index.sort_key]
    unique: dict[str, KeyAttribute] = {}
    for key in filter(None, keys):
        unique.setdefault(key.name, key)
    return list(unique.values())


@dataclass(frozen=True)
class NoSqlTablesArgs:
    settings: NoSqlConfig
    data_key_arn: pulumi.Input[str]
    """The customer-managed key every table is encrypted with."""


class NoSqlTables(pulumi.ComponentResource):
    """One on-demand, encrypted, point-in-time-recoverable DynamoDB table per configured table."""

    tables: dict[str, aws.dynamodb.Table]

    def __init__(self, name: str, context: StackContext, args: NoSqlTablesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:data:NoSqlTables", name, None, opts)
        self._name = name
        self._region = context.region
        self._key_arn = pulumi.Output.from_input(args.data_key_arn)
        conv = context.conventions
        self.tables = {}
        self._configs = {table.name: table for table in args.settings.tables}
        for table in args.settings.tables:
            self.tables[table.name] = aws.dynamodb.Table(
                f"{name}-{table.name}",
                name=conv.physical_name(table.name, max_length=255),
                # DynamoDB.1: on-demand absorbs a Black Friday spike with no capacity planning.
                billing_mode="PAY_PER_REQUEST",
                hash_key=table.partition_key.name,
                range_key=table.sort_key.name if table.sort_key else None,
                attributes=[aws.dynamodb.TableAttributeArgs(name=k.name, type=k.type) for k in _attributes(table)],
                global_secondary_indexes=[
                    aws.dynamodb.TableGlobalSecondaryIndexArgs(
                        name=index.name,
                        projection_type=index.projection,
                        key_schemas=[
                            aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                attribute_name=key.name, key_type=role)
                            for key, role in ((index.partition_key, "HASH"), (index.sort_key, "RANGE"))
                            if key is not None
                        ],
                    )
                    for index in table.global_secondary_indexes
                ] or None,
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=table.ttl_attribute, enabled=True)
                if table.ttl_attribute else None,
                stream_enabled=table.stream is not None,
                stream_view_type=table.stream,
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                    enabled=True, recovery_period_in_days=PITR_RECOVERY_DAYS),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=True, kms_key_arn=args.data_key_arn),
                deletion_protection_enabled=context.protect,
                region=context.region,
                tags=conv.tags(conv.physical_name(table.name, max_length=255), {"table": table.name}),
                opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
            )
        self.register_outputs({"tableNames": {k: t.name for k, t in self.tables.items()}})

    def table(self, name: str) -> aws.dynamodb.Table:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"no table {name!r}; tables: {', '.join(self.tables)}") from None

    def grant_read(self, role: aws.iam.Role, table: str) -> aws.iam.RolePolicy:
        document = pulumi.Output.all(self.table(table).arn, self._key_arn).apply(
            lambda values: table_read_policy(values[0], values[1], self._region))
        return attach(f"{self._name}-{table}-read-{role._name}", role, document, parent=role)

    def grant_read_write(self, role: aws.iam.Role, table: str) -> aws.iam.RolePolicy:
        document = pulumi.Output.all(self.table(table).arn, self._key_arn).apply(
            lambda values: table_read_write_policy(values[0], values[1], self._region))
        return attach(f"{self._name}-{table}-read-write-{role._name}", role, document, parent=role)

    def grant_stream_read(self, role: aws.iam.Role, table: str) -> aws.iam.RolePolicy:
        resource = self.table(table)
        if self._configs[table].stream is None:
            raise ValueError(f"table {table!r} has no stream; set `stream` for it in retail:nosql.tables")
        document = pulumi.Output.all(resource.arn, resource.stream_arn, self._key_arn).apply(
            lambda values: table_stream_read_policy(values[0], values[1], values[2], self._region))
        return attach(f"{self._name}-{table}-stream-read-{role._name}", role, document, parent=role)
