"""Each service role's data paths, from the inline policies the prod graph attaches to it.

The services declare what they use (``retail:services[].uses``); ``RegionalPlatform`` turns each
declaration into an inline ``RolePolicy`` on the service's workload role. Here the graph's own
documents (what ``pulumi up`` would send, not the grant helpers called again) are:

- accepted by moto's IAM (``put_role_policy`` runs its grammar validator);
- evaluated with moto's evaluator against every data store of the graph, with ARNs rebuilt as
  the mocks name them, so that the capabilities the role has, store by store, equal exactly
  the capabilities its declaration implies (a removed grant, a partial one or an extra one
  fails, and the failure names the service);
- checked for their key uses: exactly the KMS actions the declared stores need, on the store's
  key, through the store's service in the stack's region, and nothing through any other
  service, region, or directly.

Both sides of prod are checked: the primary region's workload roles against the primary's
stores and keys, and the DR slice's roles (``retail-prod-dr-<service>-workload``) against the
DR stores (replica tables, replica buckets, the secondary cluster and cache) and the DR
replicas of the keys. Each side's stores are also probes for the other side's roles, under
``<side>:<store>`` names no declaration implies: a role that reaches across regions fails.

The database is entered where the services are pointed: in prod's primary through its RDS Proxy
(``rds-db:connect`` on the proxy's ``prx-`` resource id), the cluster behind it being a probe no
service may touch; in the DR slice, which has no proxy, on the secondary cluster itself.

A second graph, prod with extra declarations, carries the access kinds prod does not declare
(a table's stream, bucket write and read-write), so every branch of the declaration is shown
to reach the role.

moto's evaluator limits (pinned in test_moto_evaluators.py) and how they are met here:

- an Allow whose condition fails reads DENIED, and moto returns the first DENIED it meets, so
  a role's documents are evaluated one by one and the role is allowed when any one permits;
  that is IAM's rule only for documents without Deny statements, which is asserted first;
- a condition key missing from the request is treated as satisfied, so "the key used directly
  (no ``kms:ViaService``)" is judged by the reference evaluator, and only that.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from moto.iam.access_control import PermissionResult

from blueprint import ResourceGraph, synthesize
from blueprint.access import arn_of
from blueprint.graph import DR_SLICE_NAME, DR_SLICE_TYPE
from blueprint.mocks import _EXTRAS, ACCOUNT_ID, _digest
from components.common.settings import Environment
from components.data.object_storage import purpose_slug
from config.loader import parse_stack_config
from config.presets import PRESETS
from tests.support import config_with

PERMITTED = PermissionResult.PERMITTED
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
TABLE, CLUSTER = "aws:dynamodb/table:Table", "aws:rds/cluster:Cluster"
PROXY = "aws:rds/proxy:Proxy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
REPLICATION_GROUP, CACHE_USER = "aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/user:User"
SERVICES = ("storefront", "catalog", "cart", "checkout")
SIDES = ("primary", "dr")

#: Prod, plus the access kinds prod does not declare: a table's stream, bucket write and read-write.
EXTRA_USES = {"storefront": {"buckets": {"dataLake": "write"}},
              "cart": {"tables": {"inventory": "stream"}, "buckets": {"backups": "readWrite"}}}

#: What each declared access gives, as capabilities checked below.
TABLE_CAPABILITIES = {"read": {"read"}, "readWrite": {"read", "write"}, "stream": {"stream"}}
BUCKET_CAPABILITIES = {"read": {"read"}, "write": {"write"}, "readWrite": {"read", "write"}}

#: Key uses a store's reader needs (decrypt what it reads) and a writer needs (new data keys).
#: ReEncrypt* is part of what the write grants give; it is listed so an exact comparison holds.
READER_KEY_USES = frozenset({"kms:Decrypt"})
WRITER_KEY_USES = frozenset({"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom",
                             "kms:ReEncryptTo"})
KEY_PROBES = tuple(sorted(WRITER_KEY_USES | {"kms:GenerateDataKeyWithoutPlaintext", "kms:CreateGrant",
                                             "kms:DescribeKey", "kms:ScheduleKeyDeletion", "kms:PutKeyPolicy"}))
VIA_SERVICES = ("s3", "dynamodb", "rds", "elasticache", "secretsmanager", "sqs", "lambda")
OTHER_REGION = "us-east-1"


# -- graphs and declarations ---------------------------------------------------------------------

def _with_extra_uses() -> list[dict[str, Any]]:
    # The stack file's list if it has one (it replaces the preset's), so the variant stays prod's.
    own = config_with("prod").get("retail:services")
    services = json.loads(own) if own else copy.deepcopy(PRESETS[Environment.prod]["services"])
    for service in services:
        for kind, extra in EXTRA_USES.get(service["name"], {}).items():
            service["uses"].setdefault(kind, {}).update(extra)
    return services


_VARIANTS: dict[str, tuple[ResourceGraph, Any]] = {}


def variant(name: str, graph_of: Callable[[str], ResourceGraph]) -> tuple[ResourceGraph, Any]:
    """(graph, parsed config) of prod as it is (the session's graph, which the ``aws`` fixture
    also uses), or of prod with :data:`EXTRA_USES`; each synthesized once."""
    if name not in _VARIANTS:
        if name == "prod":
            config = config_with("prod")
            graph = graph_of("prod")
        else:
            config = config_with("prod", services=_with_extra_uses())
            graph = synthesize("prod", config=config)
        _VARIANTS[name] = graph, parse_stack_config(config, "prod")
    return _VARIANTS[name]


def declared(config: Any, service: str) -> set[tuple[str, str, str]]:
    """(store kind, store, capability) the declaration implies."""
    (uses,) = [s.uses for s in config.services if s.name == service]
    expected = {("table", table, cap) for table, access in uses.tables.items() for cap in TABLE_CAPABILITIES[access]}
    expected |= {("bucket", purpose_slug(purpose), cap) for purpose, access in uses.buckets.items()
                 for cap in BUCKET_CAPABILITIES[access]}
    if uses.sql is not None:
        expected.add(("sql", "sql", f"connect as {uses.sql.user}"))
    if uses.cache:
        expected.add(("cache", "cache", "connect"))
    return expected


def declared_key_uses(config: Any, service: str, region: str) -> set[tuple[str, str]]:
    """(KMS action, kms:ViaService) the declared stores need on the data key. The database and
    the cache need none: their encryption at rest is theirs, an IAM sign-in uses no key."""
    needs: set[tuple[str, str]] = set()
    for kind, _, cap in declared(config, service):
        via = {"table": "dynamodb", "bucket": "s3"}.get(kind)
        if via is not None:
            uses = READER_KEY_USES if cap in ("read", "stream") else WRITER_KEY_USES
            needs |= {(action, f"{via}.{region}.amazonaws.com") for action in uses}
    return needs


def role_name(graph: ResourceGraph, service: str, side: str = "primary") -> str:
    return f"retail-{graph.stack}-{'dr-' if side == 'dr' else ''}{service}-workload"


def role_documents(graph: ResourceGraph, service: str, side: str = "primary") -> dict[str, str]:
    """The inline policies the graph attaches to the service's workload role (of a side), by name."""
    role = role_name(graph, service, side)
    return {p.name: str(p.inputs["policy"]) for p in graph.of_type(ROLE_POLICY) if p.inputs.get("role") == role}


# -- the two sides -------------------------------------------------------------------------------

def side_region(graph: ResourceGraph, side: str) -> str:
    return graph.region if side == "primary" else graph.outputs["drRegion"]


def side_view(graph: ResourceGraph, side: str) -> ResourceGraph:
    """The primary region's resources, or the DR slice's (everything under the ``dr``
    RegionalPlatform)."""
    if side == "primary":
        return graph.without_dr()
    dr = graph.one(DR_SLICE_TYPE, DR_SLICE_NAME)
    return ResourceGraph(graph.project, graph.stack, side_region(graph, side), tuple(graph.descendants(dr.urn)),
                         graph.outputs)


def side_keys(graph: ResourceGraph, side: str) -> dict[str, str]:
    """The stack's keys as the side uses them: the primaries, or their DR replicas (same
    multi-Region key id, the DR region's ARN)."""
    keys = graph.outputs["kmsKeyArns"]
    if side == "primary":
        return dict(keys)
    return {k: arn.replace(f":{graph.region}:", f":{side_region(graph, side)}:") for k, arn in keys.items()}


# -- the stores, named as the graph names them ------------------------------------------------------

@dataclass(frozen=True)
class Capability:
    """One capability on one store: held when every ``required`` (action, resource) is allowed
    (and its key use, if any); touched when any of ``touched`` is."""

    kind: str
    store: str
    name: str
    required: tuple[tuple[str, str], ...]
    touched: tuple[tuple[str, str], ...]
    key_use: tuple[str, str, str] | None = None
    """(KMS action, key ARN, kms:ViaService) the data action also needs."""


def _logical(resource: Any, prefix: str) -> str:
    return resource.name.removeprefix(prefix)


def _table_arn_and_key(graph: ResourceGraph, table: Any, side: str) -> tuple[str, str]:
    """A table's ARN and key on a side: the primary table, or its replica in the DR region
    (a global table's replica keeps the name, in its region, under its own key)."""
    arn, region = arn_of(table), side_region(graph, side)
    if side == "primary":
        return arn, (table.inputs.get("serverSideEncryption") or {}).get("kmsKeyArn") or "*"
    (replica,) = [r for r in table.inputs.get("replicas") or [] if r["regionName"] == region]
    return arn.replace(f":{graph.region}:", f":{region}:"), replica.get("kmsKeyArn") or "*"


def _table_capabilities(graph: ResourceGraph, side: str) -> list[Capability]:
    region, caps = side_region(graph, side), []
    # The global tables live in the primary's slice; the DR side reaches their replicas.
    tables = [(_logical(t, "tables-"), *_table_arn_and_key(graph, t, side), t)
              for t in graph.without_dr().of_type(TABLE)]
    # A table the graph does not have, whose name extends a real one: a prefix match would reach it.
    carts, _ = _table_arn_and_key(graph, graph.one(TABLE, "tables-carts"), side)
    tables.append(("carts-archive", f"{carts}-archive", "*", None))
    for name, arn, key, table in tables:
        via = f"dynamodb.{region}.amazonaws.com"
        index = f"{arn}/index/byAnything"
        if table is not None and table.inputs.get("streamEnabled"):
            # The mocks give a stream ARN as an output, which the graph (inputs) does not hold.
            stream = _EXTRAS[TABLE](table.inputs, region, table.id, "")["streamArn"]
        else:
            stream = f"{arn}/stream/2026-01-01T00:00:00.000"
        reads = ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:BatchGetItem",
                 "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable")
        writes = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem")
        streams = ("dynamodb:DescribeStream", "dynamodb:GetShardIterator", "dynamodb:GetRecords")
        admin = ("dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateBackup",
                 "dynamodb:RestoreTableToPointInTime", "dynamodb:UpdateTimeToLive", "dynamodb:PutResourcePolicy")
        caps += [
            Capability("table", name, "read",
                       (("dynamodb:GetItem", arn), ("dynamodb:Query", arn), ("dynamodb:Query", index)),
                       tuple((a, r) for a in reads for r in (arn, index)), ("kms:Decrypt", key, via)),
            Capability("table", name, "write",
                       (("dynamodb:PutItem", arn), ("dynamodb:UpdateItem", arn), ("dynamodb:DeleteItem", arn)),
                       tuple((a, arn) for a in writes), ("kms:GenerateDataKey", key, via)),
            Capability("table", name, "stream", tuple((a, stream) for a in streams),
                       tuple((a, stream) for a in streams), ("kms:Decrypt", key, via)),
            Capability("table", name, "administer", (), tuple((a, arn) for a in admin)),
        ]
    return caps


def _bucket_capabilities(graph: ResourceGraph, side: str) -> list[Capability]:
    region, caps = side_region(graph, side), []
    graph = side_view(graph, side)
    prefix = "storage-" if side == "primary" else "dr-storage-"
    keys = {}
    for encryption in graph.of_type(BUCKET_ENCRYPTION):
        for rule in encryption.inputs.get("rules", []):
            key = (rule.get("applyServerSideEncryptionByDefault") or {}).get("kmsMasterKeyId")
            if key:
                keys[encryption.inputs["bucket"]] = key
    buckets = [(_logical(b, prefix), arn_of(b), keys.get(b.id)) for b in graph.of_type(BUCKET)]
    assert all(b.region == region for b in graph.of_type(BUCKET))
    assets = arn_of(graph.one(BUCKET, f"{prefix}assets"))
    buckets.append(("assets-copy", f"{assets}-copy", None))
    for name, arn, key in buckets:
        obj, via = f"{arn}/example", f"s3.{region}.amazonaws.com"
        caps += [
            Capability("bucket", name, "read", (("s3:GetObject", obj), ("s3:ListBucket", arn)),
                       (("s3:GetObject", obj), ("s3:GetObjectVersion", obj), ("s3:ListBucket", arn),
                        ("s3:ListBucketVersions", arn)),
                       # SSE-S3 (no key of ours) needs no key permission.
                       ("kms:Decrypt", key, via) if key else None),
            Capability("bucket", name, "write", (("s3:PutObject", obj),),
                       (("s3:PutObject", obj), ("s3:AbortMultipartUpload", obj)),
                       ("kms:GenerateDataKey", key, via) if key else None),
            Capability("bucket", name, "delete or administer", (),
                       (("s3:DeleteObject", obj), ("s3:DeleteObjectVersion", obj), ("s3:DeleteBucket", arn),
                        ("s3:PutBucketPolicy", arn), ("s3:PutLifecycleConfiguration", arn))),
        ]
    return caps


def _sql_capabilities(graph: ResourceGraph, config: Any, side: str) -> list[Capability]:
    view = side_view(graph, side)
    (cluster,) = view.of_type(CLUSTER)
    region = cluster.inputs.get("region") or graph.region
    assert region == side_region(graph, side)
    # The mocks' clusterResourceId and proxy ARN (outputs): the rds-db ARN takes the resource id
    # (cluster-…, prx-…), not the name.
    cluster_id = f"cluster-{_digest(CLUSTER, cluster.name, region)[:26].upper()}"
    # With RDS Proxy (prod's preset) the primary's services sign in to the proxy, never to the
    # cluster; the DR secondary has no proxy, so the DR services sign in to it directly.
    proxies = view.of_type(PROXY)
    assert len(proxies) == int(side == "primary" and config.sql.proxy.enabled), side
    entry = f"prx-{_digest(PROXY, proxies[0].name, region)[:17]}" if proxies else cluster_id
    users = {s.uses.sql.user for s in config.services if s.uses.sql} | {
        config.sql.master_username, "catalog_app", "intruder"}

    def dbuser(resource_id: str, user: str) -> str:
        return f"arn:aws:rds-db:{region}:{ACCOUNT_ID}:dbuser:{resource_id}/{user}"

    caps = []
    for user in sorted(users):
        arn = dbuser(entry, user)
        caps.append(Capability("sql", "sql", f"connect as {user}", (("rds-db:connect", arn),),
                               (("rds-db:connect", arn),)))
        if proxies:
            # Behind the proxy only the proxy's own role signs in: a service that could would
            # skip the pool (and, from the DR side, reach across regions).
            caps.append(Capability("sql", "the cluster behind the proxy", f"connect as {user}, skipping the proxy",
                                   (), (("rds-db:connect", dbuser(cluster_id, user)),)))
    others = [f"cluster-{'0' * 26}"] + ([f"prx-{'0' * 17}"] if proxies else [])
    for other in others:
        arn = dbuser(other, sorted(users)[0])
        caps.append(Capability("sql", f"another {'proxy' if other.startswith('prx-') else 'cluster'}", "connect",
                               (("rds-db:connect", arn),), (("rds-db:connect", arn),)))
    return caps


def _cache_capabilities(graph: ResourceGraph, side: str) -> list[Capability]:
    graph = side_view(graph, side)
    (group,) = graph.of_type(REPLICATION_GROUP)
    group_arn = arn_of(group)
    users = graph.of_type(CACHE_USER)
    iam_users = [arn_of(u) for u in users if (u.inputs.get("authenticationMode") or {}).get("type") == "iam"]
    others = [arn_of(u) for u in users if arn_of(u) not in iam_users]
    assert iam_users and others, "the cache has an IAM user and a default one"
    # ElastiCache authorises Connect on the replication group and on the user both.
    connect = tuple(("elasticache:Connect", arn) for arn in (group_arn, *iam_users))
    other_group = f"{group_arn}-copy"
    return [
        Capability("cache", "cache", "connect", connect, connect),
        Capability("cache", "cache", "connect as another user", (),
                   tuple(("elasticache:Connect", arn) for arn in others)),
        Capability("cache", "another replication group", "connect", (("elasticache:Connect", other_group),),
                   (("elasticache:Connect", other_group),)),
    ]


_CAPABILITIES: dict[tuple[str, str], tuple[Capability, ...]] = {}


def _side_capabilities(graph: ResourceGraph, config: Any, side: str) -> list[Capability]:
    return (_table_capabilities(graph, side) + _bucket_capabilities(graph, side)
            + _sql_capabilities(graph, config, side) + _cache_capabilities(graph, side))


def capabilities(name: str, graph: ResourceGraph, config: Any, side: str) -> tuple[Capability, ...]:
    """The side's stores under their own names, then the other side's as ``<side>:<store>``."""
    if (name, side) not in _CAPABILITIES:
        (other,) = [s for s in SIDES if s != side]
        _CAPABILITIES[name, side] = tuple(_side_capabilities(graph, config, side)) + tuple(
            dataclasses.replace(c, store=f"{other}:{c.store}") for c in _side_capabilities(graph, config, other))
    return _CAPABILITIES[name, side]


# -- evaluation ------------------------------------------------------------------------------------

Evaluate = Callable[..., PermissionResult]


def allows(evaluate: Evaluate, documents: Iterable[str], action: str, resource: str,
           context: Mapping[str, str] | None = None) -> bool:
    """The role's verdict: allowed when one of its documents permits (exact only without Deny
    statements: see the module docstring)."""
    return any(evaluate(doc, action, resource, context=context) is PERMITTED for doc in documents)


def held(evaluate: Evaluate, documents: list[str], cap: Capability) -> bool:
    if not cap.required or not all(allows(evaluate, documents, a, r) for a, r in cap.required):
        return False
    if cap.key_use is None:
        return True
    action, key, via = cap.key_use
    return allows(evaluate, documents, action, key, {"kms:ViaService": via})


def touched(evaluate: Evaluate, documents: list[str], cap: Capability) -> bool:
    return any(allows(evaluate, documents, a, r) for a, r in cap.touched)


@dataclass(frozen=True)
class Case:
    graph: ResourceGraph
    config: Any
    side: str
    service: str
    documents: list[str]
    capabilities: tuple[Capability, ...]


VARIANT_NAMES = ("prod", "prod-every-access")


@pytest.fixture
def case(request, graph_of) -> Case:
    name, side, service = request.param
    graph, config = variant(name, graph_of)
    return Case(graph, config, side, service, list(role_documents(graph, service, side).values()),
                capabilities(name, graph, config, side))


#: Parametrized by variant, side and service, so a failure names the service and its region.
by_service = pytest.mark.parametrize("case", [pytest.param((n, d, s), id=f"{n}-{d}-{s}") for n in VARIANT_NAMES
                                              for d in SIDES for s in SERVICES], indirect=True)


# -- tests -----------------------------------------------------------------------------------------

@by_service
def test_the_role_holds_only_allow_statements(case):
    # allows() combines documents as IAM does only when no document denies.
    assert case.documents, f"{case.service}: no inline policy on its workload role"
    effects = {s["Effect"] for doc in case.documents for s in json.loads(doc)["Statement"]}
    assert effects == {"Allow"}, case.service


@by_service
def test_iam_accepts_the_roles_documents(aws, case):
    documents = role_documents(case.graph, case.service, case.side)
    iam = aws.client("iam")
    role = role_name(case.graph, case.service, case.side)
    # The trust policy is not under test (IRSA web identity, which moto does not check).
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}}]}))
    for name, document in documents.items():
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=document)
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == sorted(documents)
    assert {name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"] for name in documents} == \
        {name: json.loads(document) for name, document in documents.items()}


@by_service
def test_the_role_holds_exactly_what_the_service_declares(moto_eval, case):
    expected = declared(case.config, case.service)
    assert expected, f"{case.service} declares nothing"
    holds = {(c.kind, c.store, c.name) for c in case.capabilities if held(moto_eval, case.documents, c)}
    reaches = {(c.kind, c.store, c.name) for c in case.capabilities if touched(moto_eval, case.documents, c)}
    # Both ways: a missing grant or key use fails `holds`; an extra or partial one fails `reaches`.
    assert holds == expected, case.service
    assert reaches == expected, case.service


@by_service
def test_undeclared_stores_and_writes_over_reads_are_denied(moto_eval, case):
    # Implied by the exact comparison above; spelt out so a failure lists the calls themselves.
    wanted = declared(case.config, case.service)
    stores = {(kind, store) for kind, store, _ in wanted}
    read_only = {(k, s) for k, s, cap in wanted if cap in ("read", "stream")} - {(k, s) for k, s, cap in wanted
                                                                                  if cap == "write"}
    elsewhere = [(a, r) for c in case.capabilities if (c.kind, c.store) not in stores for a, r in c.touched
                 if allows(moto_eval, case.documents, a, r)]
    assert elsewhere == [], case.service
    written = [(a, r) for c in case.capabilities if (c.kind, c.store) in read_only and c.name == "write"
               for a, r in c.touched if allows(moto_eval, case.documents, a, r)]
    assert written == [], case.service


@by_service
def test_keys_are_used_only_as_the_declared_stores_need_through_their_services(moto_eval, ref_eval, case):
    region, keys = side_region(case.graph, case.side), side_keys(case.graph, case.side)
    (other,) = [s for s in SIDES if s != case.side]
    # The other side's replicas of the keys (the same key ids, another region's ARNs).
    keys |= {f"{other}:{k}": arn for k, arn in side_keys(case.graph, other).items()}
    vias = [f"{s}.{r}.amazonaws.com" for s in VIA_SERVICES
            for r in (region, side_region(case.graph, other), OTHER_REGION)]
    used = {(action, via) for action in KEY_PROBES for via in vias
            if allows(moto_eval, case.documents, action, keys["data"], {"kms:ViaService": via})}
    assert used == declared_key_uses(case.config, case.service, region), case.service
    other_keys = [(k, a, v) for k in keys if k != "data" for a in KEY_PROBES for v in vias
                  if allows(moto_eval, case.documents, a, keys[k], {"kms:ViaService": v})]
    assert other_keys == [], case.service
    # moto reads a missing kms:ViaService as satisfied: the key used directly is judged by the
    # reference evaluator instead (a positive operator fails when its key is absent).
    direct = [(k, a) for k in keys for a in KEY_PROBES if allows(ref_eval, case.documents, a, keys[k], {})]
    assert direct == [], case.service


@by_service
def test_the_database_is_entered_only_as_the_declared_user(moto_eval, case):
    (uses,) = [s.uses for s in case.config.services if s.name == case.service]
    signs_in = {c.name for c in case.capabilities if c.kind == "sql" and touched(moto_eval, case.documents, c)}
    assert signs_in == ({f"connect as {uses.sql.user}"} if uses.sql else set()), case.service


def test_the_variants_declare_every_access_kind(graph_of):
    # Without this a kind no variant declares would pass every test above unchecked.
    kinds = set()
    for name in VARIANT_NAMES:
        for s in variant(name, graph_of)[1].services:
            kinds |= {("table", a) for a in s.uses.tables.values()} | {("bucket", a) for a in s.uses.buckets.values()}
            kinds |= {("sql", "connect")} if s.uses.sql else set()
            kinds |= {("cache", "connect")} if s.uses.cache else set()
    assert kinds == {("table", a) for a in TABLE_CAPABILITIES} | {("bucket", a) for a in BUCKET_CAPABILITIES} | {
        ("sql", "connect"), ("cache", "connect")}


def test_prod_itself_declares_a_read_only_store(graph_of):
    # The write-over-read check must bite on prod's own documents, not only on the variant's.
    config = variant("prod", graph_of)[1]
    assert any(access == "read" for s in config.services
               for access in (*s.uses.tables.values(), *s.uses.buckets.values()))
