"""DynamoDB tables: carts, sessions, inventory, orders, and whatever a stack adds.

With :class:`TableReplica` (the DR strategies that replicate) every table is a global table
(version 2019.11.21) with a replica in the DR region, encrypted there with the DR region's
data key. The replicas *are* the DR region's tables: the DR slice builds no tables of its own
and grants its workloads access to the replicas through :class:`TableReplicaGrants`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
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

#: Global tables replicate through the table's stream, which must carry both images.
REPLICATION_STREAM_VIEW = "NEW_AND_OLD_IMAGES"


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


def _region_of_arn(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[3] if len(parts) > 5 and parts[0] == "arn" else None


@dataclass(frozen=True)
class TableReplica:
    """Where every table gets its replica: the DR region, and its data key."""

    region: str
    """The DR region (retail:dr.region)."""
    key_arn: pulumi.Input[str]
    """The DR region's data key (the replica of the primary's multi-Region data key)."""

    def __post_init__(self) -> None:
        if not self.region:
            raise ValueError("TableReplica.region is empty; give the DR region (retail:dr.region)")
        if isinstance(self.key_arn, str) and _region_of_arn(self.key_arn) != self.region:
            raise ValueError(f"TableReplica.key_arn {self.key_arn!r} is not a key of {self.region!r}; give the DR "
                             "region's data key (a replica is encrypted with a key of its own region)")


def replica_table_arn(partition: str, region: str, account_id: str, table_name: str) -> str:
    """A global table's replica: the same table name, in the replica's region."""
    return f"arn:{partition}:dynamodb:{region}:{account_id}:table/{table_name}"


def stream_view_for(table: TableConfig, replica: TableReplica | None) -> str | None:
    """The table's stream view: the configured one, or the one replication needs."""
    if replica is None:
        return table.stream
    if table.stream not in (None, REPLICATION_STREAM_VIEW):
        raise ValueError(
            f"table {table.name!r} asks for stream {table.stream!r}, but a global table (retail:dr replicating to "
            f"{replica.region}) replicates through a {REPLICATION_STREAM_VIEW} stream; set `stream: "
            f"{REPLICATION_STREAM_VIEW}` for it in retail:nosql.tables (its consumers see the same events, with both "
            "images)")
    # A table without a configured stream gets one: its consumers (none) are unaffected.
    return REPLICATION_STREAM_VIEW


@dataclass(frozen=True)
class NoSqlTablesArgs:
    settings: NoSqlConfig
    data_key_arn: pulumi.Input[str]
    """The customer-managed key every table is encrypted with."""
    replica: TableReplica | None = None
    """A replica of every table in the DR region (primary slice, replicating DR strategies
    only). The DR slice builds no NoSqlTables: it uses :meth:`NoSqlTables.replica_view`."""


class NoSqlTables(pulumi.ComponentResource):
    """One on-demand, encrypted, point-in-time-recoverable DynamoDB table per configured table."""

    tables: dict[str, aws.dynamodb.Table]

    def __init__(self, name: str, context: StackContext, args: NoSqlTablesArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:data:NoSqlTables", name, None, opts)
        self._name = name
        self._region = context.region
        self._key_arn = pulumi.Output.from_input(args.data_key_arn)
        self._context, self._replica = context, args.replica
        conv = context.conventions
        self.tables = {}
        self._configs = {table.name: table for table in args.settings.tables}
        if args.replica is not None and args.replica.region == context.region:
            raise ValueError(f"NoSqlTablesArgs.replica.region is the tables' own region {context.region!r}; give "
                             "the DR region")
        views = {table.name: stream_view_for(table, args.replica) for table in args.settings.tables}
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
                stream_enabled=views[table.name] is not None,
                stream_view_type=views[table.name],
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                    enabled=True, recovery_period_in_days=PITR_RECOVERY_DAYS),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                    enabled=True, kms_key_arn=args.data_key_arn),
                deletion_protection_enabled=context.protect,
                replicas=None if args.replica is None else [aws.dynamodb.TableReplicaArgs(
                    region_name=args.replica.region,
                    kms_key_arn=args.replica.key_arn,
                    # The replica is the DR region's table of record after a failover: it
                    # must be as recoverable and as hard to delete as the table.
                    point_in_time_recovery=True,
                    deletion_protection_enabled=context.protect,
                    propagate_tags=True,
                )],
                region=context.region,
                tags=conv.tags(conv.physical_name(table.name, max_length=255),
                               {"table": table.name, **conv.backup_tags()}),
                opts=pulumi.ResourceOptions(parent=self, protect=context.protect),
            )
        self.register_outputs({"tableNames": {k: t.name for k, t in self.tables.items()}})

    def replica_view(self) -> TableReplicaGrants:
        """Grants on the DR region's replicas of these tables, for the DR slice's workloads."""
        if self._replica is None:
            raise ValueError(f"tables {self._name!r} have no replica; set NoSqlTablesArgs.replica (a replicating "
                             "retail:dr strategy) before asking for the replicas' grants")
        return TableReplicaGrants(
            f"{self._name}-{self._replica.region}",
            table_names={name: table.name for name, table in self.tables.items()},
            streams=[name for name, config in self._configs.items() if config.stream is not None],
            replica=self._replica, account_id=self._context.account_id, partition=self._context.partition)

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


class TableReplicaGrants:
    """Grants on a global table's replicas in one region, as :class:`NoSqlTables` grants on its
    tables: the replica's ARN (the table's name in the replica's region) and the replica's
    key, only through DynamoDB in that region. Creates nothing but the grants.

    ``table_names`` are the tables' physical names (the primary's: a replica has its table's
    name, never a ``dr`` one); ``streams`` the tables whose config declares a stream, the only
    ones a consumer may be granted.
    """

    def __init__(self, name: str, *, table_names: Mapping[str, pulumi.Input[str]], streams: Collection[str],
                 replica: TableReplica, account_id: pulumi.Input[str], partition: pulumi.Input[str]):
        self._name, self._replica = name, replica
        self._table_names = dict(table_names)
        self._streams = frozenset(streams)
        self._account_id, self._partition = account_id, partition
        self._key_arn = pulumi.Output.from_input(replica.key_arn)

    @property
    def region(self) -> str:
        return self._replica.region

    def table_arn(self, table: str) -> pulumi.Output[str]:
        try:
            name = self._table_names[table]
        except KeyError:
            raise KeyError(f"no table {table!r}; tables: {', '.join(self._table_names)}") from None
        region = self._replica.region
        return pulumi.Output.all(self._partition, self._account_id, name).apply(
            lambda values: replica_table_arn(values[0], region, values[1], values[2]))

    def grant_read(self, role: aws.iam.Role, table: str) -> aws.iam.RolePolicy:
        document = pulumi.Output.all(self.table_arn(table), self._key_arn).apply(
            lambda values: table_read_policy(values[0], values[1], self.region))
        return attach(f"{self._name}-{table}-read-{role._name}", role, document, parent=role)

    def grant_read_write(self, role: aws.iam.Role, table: str) -> aws.iam.RolePolicy:
        document = pulumi.Output.all(self.table_arn(table), self._key_arn).apply(
            lambda values: table_read_write_policy(values[0], values[1], self.region))
        return attach(f"{self._name}-{table}-read-write-{role._name}", role, document, parent=role)

    def grant_stream_read(self, role: aws.iam.Role, table: str) -> aws.iam.RolePolicy:
        arn = self.table_arn(table)
        if table not in self._streams:
            raise ValueError(f"table {table!r} has no stream; set `stream` for it in retail:nosql.tables")
        # The replica's stream label is known only once the replica exists; the table's own
        # streams (and no other table's) are what the wildcard admits.
        document = pulumi.Output.all(arn, self._key_arn).apply(
            lambda values: table_stream_read_policy(values[0], f"{values[0]}/stream/*", values[1], self.region))
        return attach(f"{self._name}-{table}-stream-read-{role._name}", role, document, parent=role)
