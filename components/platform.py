"""RetailPlatform: the whole platform for one stack, composed from the validated config."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.cache import Cache, CacheArgs
from components.config import StackConfig
from components.keys import KeyRing, KeyRingArgs
from components.network import Network, NetworkArgs
from components.nosql_tables import NoSqlTables, NoSqlTablesArgs
from components.object_storage import ObjectStore, ObjectStoreArgs
from components.sql_database import SqlDatabase, SqlDatabaseArgs


class RetailPlatform(pulumi.ComponentResource):
    """Every component of the blueprint, wired together. Later areas add to it."""

    def __init__(self, name: str, config: StackConfig, stack: str,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:platform:RetailPlatform", name, None, opts)
        conventions = config.conventions(stack)
        for note in config.loosened_defaults():
            pulumi.log.warn(note, resource=self)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition

        self.keys = KeyRing(
            "keys",
            KeyRingArgs(
                conventions=conventions,
                region=config.region,
                dr_region=config.dr_region,
                account_id=identity.account_id,
                partition=partition,
                protect=config.is_prod,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.network = Network(
            "network",
            NetworkArgs(
                config=config.network,
                conventions=conventions,
                region=config.region,
                logs_key_arn=self.keys.arn("logs"),
                account_id=identity.account_id,
                partition=partition,
                protect=config.is_prod,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

        data_key = self.keys.arn("data")
        data_clients = [self.network.data_clients_security_group.id]
        self.storage = ObjectStore(
            "storage",
            ObjectStoreArgs(config=config.storage, conventions=conventions, region=config.region,
                            data_key_arn=data_key, account_id=identity.account_id, partition=partition,
                            protect=config.is_prod),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.tables = NoSqlTables(
            "tables",
            NoSqlTablesArgs(config=config.nosql, conventions=conventions, region=config.region,
                            data_key_arn=data_key, protect=config.is_prod),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.cache = Cache(
            "cache",
            CacheArgs(config=config.cache, conventions=conventions, region=config.region,
                      vpc_id=self.network.vpc.id, subnet_ids=self.network.subnet_ids["isolated"],
                      data_key_arn=data_key, client_security_group_ids=data_clients,
                      protect=config.is_prod),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.sql = SqlDatabase(
            "sql",
            SqlDatabaseArgs(config=config.sql, conventions=conventions, region=config.region,
                            vpc_id=self.network.vpc.id, subnet_ids=self.network.subnet_ids["isolated"],
                            data_key_arn=data_key, secrets_key_arn=self.keys.arn("secrets"),
                            client_security_group_ids=data_clients, account_id=identity.account_id,
                            partition=partition, protect=config.is_prod),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.outputs = {
            "environment": config.environment.value,
            "region": config.region,
            "drRegion": config.dr_region,
            "vpcId": self.network.vpc.id,
            "privateSubnetIds": self.network.subnet_ids["private"],
            "isolatedSubnetIds": self.network.subnet_ids["isolated"],
            "publicSubnetIds": self.network.subnet_ids["public"],
            "kmsKeyArns": {domain: key.arn for domain, key in self.keys.keys.items()},
            "dataClientsSecurityGroupId": self.network.data_clients_security_group.id,
            "bucketNames": {purpose: bucket.bucket for purpose, bucket in self.storage.buckets.items()},
            "tableNames": {name: table.name for name, table in self.tables.tables.items()},
            "cacheEndpoint": self.cache.primary_endpoint,
            "sqlEndpoint": self.sql.endpoint,
            "sqlReaderEndpoint": self.sql.reader_endpoint,
            "sqlPort": self.sql.port,
            "sqlMasterSecretArn": self.sql.master_secret_arn,
        }
        self.register_outputs(self.outputs)
