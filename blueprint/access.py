"""Who can reach the data: every principal x every data store, from the graph's own documents.

Principals are the graph's IAM roles (their inline ``RolePolicy`` documents are evaluated; AWS
managed policies attached by ARN are opaque and only listed) and the service principals the
bucket and key policies name. Stores are the S3 buckets, DynamoDB tables, Aurora clusters,
ElastiCache replication groups, Secrets Manager secrets, and the KMS keys that encrypt them.
ARNs are rebuilt with the mocks' deterministic scheme (:class:`blueprint.mocks.RetailMocks`).

Each (principal, store, action) is decided by :func:`blueprint.iam_eval.reference_evaluate`
over the documents that apply, combined as AWS does within one account:

- any explicit Deny (identity, bucket or key policy) refuses;
- otherwise the identity policy's Allow suffices, or a resource policy Allow naming the
  principal itself (a resource policy statement naming the account root only delegates to IAM);
- a KMS-encrypted store's data action also needs its KMS action on the store's key, with
  ``kms:ViaService`` set to the store's service: the key policy must allow it (a statement naming
  the principal, or the account-root statement plus the identity policy).

The request context is that of a well-behaved caller: TLS, no encryption headers (the bucket's
default encryption applies), the caller's account; a service principal acts for a resource of
this account (``aws:SourceAccount``, each ``aws:SourceArn`` a policy names in it, a log-group
encryption context, the ``bucket-owner-full-control`` ACL log deliveries send). Object keys tried:
any key, and one under each prefix a policy names. Not modelled: managed policies (listed only),
permission boundaries, SCPs, session policies, KMS grants, ACLs, VPC endpoint policies, tag
conditions (tags are not in the context, so a condition on them never holds), and the database's
and cache's own users and GRANTs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from blueprint.graph import Resource, ResourceGraph
from blueprint.iam_eval import Verdict, reference_evaluate
from blueprint.mocks import ACCOUNT_ID, PARTITION, RetailMocks, _digest
from blueprint.network_paths import network_paths

SCHEMA_VERSION = 1

ROLE, ROLE_POLICY = "aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
BUCKET, BUCKET_POLICY = "aws:s3/bucket:Bucket", "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
TABLE, CLUSTER = "aws:dynamodb/table:Table", "aws:rds/cluster:Cluster"
REPLICATION_GROUP, CACHE_USER = "aws:elasticache/replicationGroup:ReplicationGroup", "aws:elasticache/user:User"
CACHE_USER_GROUP, SECRET = "aws:elasticache/userGroup:UserGroup", "aws:secretsmanager/secret:Secret"
KEY = "aws:kms/key:Key"
STREAM = "aws:kinesis/stream:Stream"
WORKGROUP = "aws:redshiftserverless/workgroup:Workgroup"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
KEY_POLICY = "aws:kms/keyPolicy:KeyPolicy"
RDS_PROXY = "aws:rds/proxy:Proxy"


def effective_key_policy(graph: ResourceGraph, key: Any) -> Any:
    """A key's policy as AWS holds it: the ``KeyPolicy`` resource that manages it, if one does
    (its ``keyId`` comes from the key), else the key's own ``policy`` input."""
    for managed in graph.of_type(KEY_POLICY):
        if key.urn in managed.property_dependencies.get("keyId", ()) and isinstance(managed.inputs.get("policy"), str):
            return managed.inputs["policy"]
    return key.inputs.get("policy")

#: The data actions evaluated per store kind, each with the KMS action it needs on a customer key.
ACTIONS: dict[str, tuple[tuple[str, str | None], ...]] = {
    "s3": (("s3:GetObject", "kms:Decrypt"), ("s3:PutObject", "kms:GenerateDataKey"),
           ("s3:DeleteObject", None), ("s3:ListBucket", None)),
    "dynamodb": (("dynamodb:GetItem", "kms:Decrypt"), ("dynamodb:Query", "kms:Decrypt"),
                 ("dynamodb:PutItem", "kms:Decrypt"), ("dynamodb:DeleteItem", "kms:Decrypt")),
    "rds": (("rds-db:connect", None),),
    "elasticache": (("elasticache:Connect", None),),
    "secretsmanager": (("secretsmanager:GetSecretValue", "kms:Decrypt"),),
    "kinesis": (("kinesis:PutRecord", "kms:GenerateDataKey"), ("kinesis:GetRecords", "kms:Decrypt")),
    # The warehouse: an IAM identity gets temporary database credentials for the workgroup
    # (Redshift decrypts the namespace itself, so no key action of the caller's).
    "redshift-serverless": (("redshift-serverless:GetCredentials", None),),
    "kms": (("kms:Decrypt", None), ("kms:Encrypt", None), ("kms:GenerateDataKey", None)),
}

def _keys(graph: ResourceGraph) -> list[Resource]:
    """The KMS keys: the primary region's and their replicas in the DR region."""
    return [*graph.of_type(KEY), *graph.of_type(REPLICA_KEY)]


def _region_of(graph: ResourceGraph, resource: Resource) -> str:
    return resource.inputs.get("region") or resource.region or graph.region


def arn_of(resource: Resource) -> str:
    """The resource's ARN, as the mocks gave it (physical name = id for every type used here)."""
    region = resource.inputs.get("region") or resource.region or ""
    primary = str(resource.inputs.get("primaryKeyArn") or "")
    if resource.type == REPLICA_KEY and "/" in primary:  # a replica shares its primary's key id
        return f"arn:{PARTITION}:kms:{region}:{ACCOUNT_ID}:key/{primary.rsplit('/', 1)[1]}"
    digest = _digest(resource.type, resource.name, region)
    return RetailMocks._arn(resource.type, region, resource.id or "", resource.id or "", digest)


@dataclass(frozen=True)
class Store:
    id: str
    """``<kind>:<physical name>``: stable across runs, the key of the JSON's access maps."""
    kind: str
    name: str
    arn: str
    targets: Mapping[str, tuple[str, ...]]
    """Per action, the resource ARNs tried: the action is allowed if any of them is."""
    all_of: tuple[str, ...] = ()
    """Further ARNs an action needs as well (a cache's replication group, besides a user)."""
    resource_policy: str | None = None
    kms_key: str | None = None
    via_service: str | None = None


@dataclass(frozen=True)
class Principal:
    id: str
    kind: str  # "role" or "service"
    name: str
    policies: tuple[tuple[str, str], ...] = ()
    managed: tuple[str, ...] = ()


@dataclass
class AccessReport:
    stack: str
    region: str
    principals: list[Principal]
    stores: list[Store]
    access: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    refused_by_key: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Actions the identity and resource policies allow but the store's KMS key policy refuses."""
    notes: list[str] = field(default_factory=list)
    network: dict[str, dict[str, int]] = field(default_factory=dict)
    """Workload (``namespace/name``) -> the network stores it can connect to, with the port
    (:mod:`blueprint.network_paths`)."""

    def allowed(self, principal: str, store: str) -> list[str]:
        return self.access.get(principal, {}).get(store, [])

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (see README): every list sorted, every principal present."""
        return {
            "schemaVersion": SCHEMA_VERSION, "stack": self.stack, "region": self.region, "account": ACCOUNT_ID,
            "stores": [{"id": s.id, "kind": s.kind, "name": s.name, "arn": s.arn, "kmsKey": s.kms_key,
                        "resourcePolicy": s.resource_policy is not None} for s in self.stores],
            "principals": [{"id": p.id, "kind": p.kind, "name": p.name,
                            "inlinePolicies": sorted(name for name, _ in p.policies),
                            "managedPolicies": list(p.managed),
                            "access": {k: v for k, v in sorted(self.access.get(p.id, {}).items()) if v},
                            "refusedByKey": dict(sorted(self.refused_by_key.get(p.id, {}).items()))}
                           for p in self.principals],
            "network": {workload: dict(sorted(stores.items())) for workload, stores in sorted(self.network.items())},
            "notes": sorted(set(self.notes)),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n"


# -- the graph's stores and principals -----------------------------------------------------

def _by_input(graph: ResourceGraph, type_: str, key: str) -> dict[str, Resource]:
    return {r.inputs[key]: r for r in graph.of_type(type_) if isinstance(r.inputs.get(key), str)}


def stores_of(graph: ResourceGraph) -> list[Store]:
    """Every store of every region of the stack (the DR region's replicas and secondaries too)."""
    stores: list[Store] = []
    policies = _by_input(graph, BUCKET_POLICY, "bucket")
    encryption = _by_input(graph, BUCKET_ENCRYPTION, "bucket")
    for bucket in graph.of_type(BUCKET):
        name, arn = bucket.id or "", arn_of(bucket)
        key = None
        if name in encryption:
            for rule in encryption[name].inputs.get("rules", []):
                key = (rule.get("applyServerSideEncryptionByDefault") or {}).get("kmsMasterKeyId") or key
        region = _region_of(graph, bucket)
        objects = tuple(f"{arn}/{path}" for path in _object_paths(graph, arn))
        targets = {action: ((arn,) if action == "s3:ListBucket" else objects) for action, _ in ACTIONS["s3"]}
        policy = policies[name].inputs.get("policy") if name in policies else None
        stores.append(Store(f"s3:{name}", "s3", bucket.name, arn, targets, resource_policy=policy, kms_key=key,
                            via_service=f"s3.{region}.amazonaws.com"))
    for table in graph.of_type(TABLE):
        arn, key = arn_of(table), (table.inputs.get("serverSideEncryption") or {}).get("kmsKeyArn")
        region = _region_of(graph, table)
        stores.append(Store(f"dynamodb:{table.id}", "dynamodb", table.name, arn,
                            {action: (arn,) for action, _ in ACTIONS["dynamodb"]}, kms_key=key,
                            via_service=f"dynamodb.{region}.amazonaws.com"))
    for cluster in graph.of_type(CLUSTER):
        region = _region_of(graph, cluster)
        cri = f"cluster-{_digest(CLUSTER, cluster.name, region)[:26].upper()}"
        prefix = f"arn:{PARTITION}:rds-db:{region}:{ACCOUNT_ID}:dbuser:{cri}/"
        users = sorted({arn for arn in _resources_named(graph) if arn.startswith(prefix)} | {prefix + "example"})
        stores.append(Store(f"rds:{cluster.id}", "rds", cluster.name, arn_of(cluster),
                            {"rds-db:connect": tuple(users)}, kms_key=cluster.inputs.get("kmsKeyId")))
    for proxy in graph.of_type(RDS_PROXY):
        # Workloads sign in to the proxy's resource id (prx-…, as the mocks make it), not the
        # cluster's: the proxy is a store of its own in the report.
        region = _region_of(graph, proxy)
        proxy_id = f"prx-{_digest(RDS_PROXY, proxy.name, region)[:17]}"
        prefix = f"arn:{PARTITION}:rds-db:{region}:{ACCOUNT_ID}:dbuser:{proxy_id}/"
        users = sorted({arn for arn in _resources_named(graph) if arn.startswith(prefix)} | {prefix + "example"})
        stores.append(Store(f"rds-proxy:{proxy.id}", "rds", proxy.name,
                            f"arn:{PARTITION}:rds:{region}:{ACCOUNT_ID}:db-proxy:{proxy_id}",
                            {"rds-db:connect": tuple(users)}))
    groups, cache_users = _by_input(graph, CACHE_USER_GROUP, "userGroupId"), _by_input(graph, CACHE_USER, "userId")
    for group in graph.of_type(REPLICATION_GROUP):
        members = [cache_users[u] for g in group.inputs.get("userGroupIds", []) if g in groups
                   for u in groups[g].inputs.get("userIds", []) if u in cache_users]
        iam_users = tuple(arn_of(u) for u in members if (u.inputs.get("authenticationMode") or {}).get("type") == "iam")
        arn = arn_of(group)
        stores.append(Store(f"elasticache:{group.id}", "elasticache", group.name, arn,
                            {"elasticache:Connect": iam_users}, all_of=(arn,), kms_key=group.inputs.get("kmsKeyId")))
    for secret in graph.of_type(SECRET):
        arn, region = arn_of(secret), _region_of(graph, secret)
        stores.append(Store(f"secretsmanager:{secret.id}", "secretsmanager", secret.name, arn,
                            {"secretsmanager:GetSecretValue": (arn,)}, kms_key=secret.inputs.get("kmsKeyId"),
                            via_service=f"secretsmanager.{region}.amazonaws.com"))
    for stream in graph.of_type(STREAM):
        arn, stream_region = arn_of(stream), stream.inputs.get("region") or stream.region or graph.region
        stores.append(Store(f"kinesis:{stream.id}", "kinesis", stream.name, arn,
                            {action: (arn,) for action, _ in ACTIONS["kinesis"]}, kms_key=stream.inputs.get("kmsKeyId"),
                            via_service=f"kinesis.{stream_region}.amazonaws.com"))
    for workgroup in graph.of_type(WORKGROUP):
        arn = arn_of(workgroup)
        stores.append(Store(f"redshift-serverless:{workgroup.id}", "redshift-serverless", workgroup.name, arn,
                            {"redshift-serverless:GetCredentials": (arn,)}))
    keys = {arn_of(k): k for k in _keys(graph)}
    used = {s.kms_key for s in stores if s.kms_key} | {c.inputs.get("masterUserSecretKmsKeyId") for c in
                                                       graph.of_type(CLUSTER)}
    for arn, key in sorted(keys.items()):
        if arn in used:
            stores.append(Store(f"kms:{key.id}", "kms", key.name, arn, {action: (arn,) for action, _ in ACTIONS["kms"]},
                                resource_policy=effective_key_policy(graph, key)))
    return sorted(stores, key=lambda s: s.id)


def _documents(graph: ResourceGraph) -> Iterable[dict[str, Any]]:
    for type_, key in ((ROLE_POLICY, "policy"), (BUCKET_POLICY, "policy"), (KEY, "policy"), (KEY_POLICY, "policy")):
        for resource in graph.of_type(type_):
            if isinstance(resource.inputs.get(key), str):
                yield json.loads(resource.inputs[key])


def _statements(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    statements = document.get("Statement", [])
    return statements if isinstance(statements, list) else [statements]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resources_named(graph: ResourceGraph) -> set[str]:
    return {str(r) for doc in _documents(graph) for s in _statements(doc) for r in _listed(s.get("Resource", []))}


def _object_paths(graph: ResourceGraph, bucket_arn: str) -> list[str]:
    """Object keys to try: any key, plus one under each prefix a policy names for the bucket."""
    paths = {"example"}
    for pattern in _resources_named(graph):
        if pattern.startswith(bucket_arn + "/") and pattern != bucket_arn + "/*":
            paths.add(pattern.removeprefix(bucket_arn + "/").replace("*", "example").replace("?", "x"))
    return sorted(paths)


def _services(graph: ResourceGraph) -> list[str]:
    names: set[str] = set()
    for type_ in (BUCKET_POLICY, KEY, KEY_POLICY):
        for resource in graph.of_type(type_):
            if isinstance(resource.inputs.get("policy"), str):
                for stmt in _statements(json.loads(resource.inputs["policy"])):
                    principal = stmt.get("Principal")
                    if isinstance(principal, Mapping):
                        names.update(str(s) for s in _listed(principal.get("Service", [])))
    return sorted(names)


def _sources(graph: ResourceGraph) -> list[str]:
    """Each ``aws:SourceArn`` an Arn*/String* condition names in this account (or an S3 ARN
    of the graph), its wildcards filled: the resources a service principal may act for."""
    buckets = {arn_of(b) for b in graph.of_type(BUCKET)}
    found: set[str] = set()
    for doc in _documents(graph):
        for stmt in _statements(doc):
            for operator, block in (stmt.get("Condition") or {}).items():
                if operator in ("ArnLike", "ArnEquals", "StringEquals", "StringLike") and isinstance(block, Mapping):
                    for key, values in block.items():
                        if key.lower() == "aws:sourcearn":
                            found.update(str(v).replace("*", "example") for v in _listed(values))
    return sorted(arn for arn in found if arn in buckets or arn.split(":")[4:5] == [ACCOUNT_ID])


def principals_of(graph: ResourceGraph) -> list[Principal]:
    roles: list[Principal] = []
    for role in graph.of_type(ROLE):
        inline = tuple(sorted((p.name, str(p.inputs["policy"])) for p in graph.of_type(ROLE_POLICY)
                              if p.inputs.get("role") == role.id and isinstance(p.inputs.get("policy"), str)))
        managed = tuple(sorted(str(a.inputs.get("policyArn")) for a in graph.of_type(ATTACHMENT)
                               if a.inputs.get("role") == role.id))
        roles.append(Principal(arn_of(role), "role", role.name, inline, managed))
    services = [Principal(name, "service", name) for name in _services(graph)]
    return sorted(roles, key=lambda p: p.id) + services


# -- evaluation ----------------------------------------------------------------------------

def _is_root_only(stmt: Mapping[str, Any]) -> bool:
    principal = stmt.get("Principal")
    if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
        return False
    return all(str(v).endswith(":root") for v in _listed(principal["AWS"]))


def _split(policy: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A resource policy as (statements naming only an account root, the others)."""
    document = json.loads(policy)
    root = [s for s in _statements(document) if _is_root_only(s)]
    return {"Statement": root}, {"Statement": [s for s in _statements(document) if not _is_root_only(s)]}


class _Evaluator:
    def __init__(self, graph: ResourceGraph, notes: list[str]):
        self.graph, self.notes = graph, notes
        self.keys = {arn_of(k): effective_key_policy(graph, k) for k in _keys(graph)}
        self.sources = _sources(graph)

    def contexts(self, principal: Principal, extra: Mapping[str, str] | None = None) -> list[dict[str, str]]:
        """The request contexts tried: one for a role; for a service principal, one per source it
        may act for (each ``aws:SourceArn`` a policy names in this account, and none)."""
        region = self.graph.region
        context = {"aws:SecureTransport": "true", "aws:RequestedRegion": region, **(extra or {})}
        if principal.kind == "role":
            return [{**context, "aws:PrincipalArn": principal.id, "aws:PrincipalAccount": ACCOUNT_ID,
                     "kms:CallerAccount": ACCOUNT_ID}]
        context.update({"aws:SourceAccount": ACCOUNT_ID, "s3:x-amz-acl": "bucket-owner-full-control",
                        "kms:EncryptionContext:aws:logs:arn":
                            f"arn:{PARTITION}:logs:{region}:{ACCOUNT_ID}:log-group:example"})
        return [context] + [{**context, "aws:SourceArn": source} for source in self.sources]

    def _verdict(self, document: Mapping[str, Any] | str, action: str, resource: str, principal: Principal,
                 context: Mapping[str, str], label: str) -> Verdict:
        try:
            return reference_evaluate(document, action, resource, context=context,
                                      principal=("AWS" if principal.kind == "role" else "Service", principal.id))
        except (NotImplementedError, ValueError) as exc:
            self.notes.append(f"{label}: not evaluated for {action} ({exc}); counted as no access")
            return Verdict.NEUTRAL

    def identity(self, principal: Principal, action: str, resource: str, context: Mapping[str, str]) -> Verdict:
        verdicts = [self._verdict(doc, action, resource, principal, context, f"inline policy {name}")
                    for name, doc in principal.policies]
        if Verdict.DENIED in verdicts:
            return Verdict.DENIED
        return Verdict.PERMITTED if Verdict.PERMITTED in verdicts else Verdict.NEUTRAL

    def decide(self, principal: Principal, action: str, resource: str, policy: str | None,
               context: Mapping[str, str], *, kms: bool = False) -> bool:
        """One request: identity and resource (or key) policy together, as in the module docstring."""
        identity = self.identity(principal, action, resource, context)
        root, named = _split(policy) if policy else ({"Statement": []}, {"Statement": []})
        label = "key policy" if kms else "bucket policy"
        by_root = self._verdict(root, action, resource, principal, context, label)
        by_name = self._verdict(named, action, resource, principal, context, label)
        if Verdict.DENIED in (identity, by_root, by_name):
            return False
        if by_name is Verdict.PERMITTED:
            return True
        if kms:  # a key policy must allow: the root statement delegates to the identity policy
            return by_root is Verdict.PERMITTED and identity is Verdict.PERMITTED
        return identity is Verdict.PERMITTED

    def store_actions(self, principal: Principal, store: Store) -> tuple[list[str], list[str]]:
        """(the actions allowed, those the store's policies allow but its KMS key refuses)."""
        if store.kind == "kms":
            return self._key_actions(principal, store), []
        allowed: list[str] = []
        refused: list[str] = []
        if store.kms_key and store.kms_key not in self.keys:
            self.notes.append(f"{store.id}: its KMS key {store.kms_key} is not in the graph; key policy not evaluated")
        for action, kms_action in ACTIONS[store.kind]:
            hits: list[str] = []
            key_refused = False
            for context in self.contexts(principal):
                if store.all_of and not all(self.decide(principal, action, arn, store.resource_policy, context)
                                            for arn in store.all_of):
                    continue
                found = [arn for arn in store.targets.get(action, ())
                         if self.decide(principal, action, arn, store.resource_policy, context)]
                if found and kms_action and store.kms_key in self.keys:
                    via = {**context, "kms:ViaService": store.via_service} if store.via_service else context
                    if not self.decide(principal, kms_action, str(store.kms_key), self.keys[str(store.kms_key)],
                                       via, kms=True):
                        key_refused = True
                        continue
                hits.extend(arn for arn in found if arn not in hits)
            if hits:
                allowed.append(self._label(action, store, sorted(hits)))
            elif key_refused:
                refused.append(action)
        return allowed, refused

    @staticmethod
    def _label(action: str, store: Store, hits: list[str]) -> str:
        if store.kind == "s3" and action != "s3:ListBucket" and f"{store.arn}/example" not in hits:
            paths = (h.removeprefix(store.arn + "/") for h in hits)
            return f"{action} on " + ", ".join(p.removesuffix("example") + "*" if p.endswith("example") else p
                                               for p in paths)
        if store.kind == "rds":
            return f"{action} as " + ", ".join(h.rsplit("/", 1)[1] for h in hits)
        return action

    def _key_actions(self, principal: Principal, store: Store) -> list[str]:
        vias = sorted({str(v) for doc in _documents(self.graph) for s in _statements(doc)
                       for block in (s.get("Condition") or {}).values() if isinstance(block, Mapping)
                       for k, values in block.items() if k.lower() == "kms:viaservice" for v in _listed(values)})
        allowed: list[str] = []
        for action, _ in ACTIONS["kms"]:
            for via in [None, *vias]:
                contexts = self.contexts(principal, {"kms:ViaService": via} if via else None)
                label = action if via is None else f"{action} via {via.split('.')[0]}"
                if label not in allowed and any(self.decide(principal, action, store.arn, store.resource_policy, c,
                                                            kms=True) for c in contexts):
                    allowed.append(label)
        return allowed


def access_report(graph: ResourceGraph) -> AccessReport:
    """Every principal's allowed actions on every store of the graph."""
    report = AccessReport(graph.stack, graph.region, principals_of(graph), stores_of(graph))
    report.network = network_paths(graph)
    evaluator = _Evaluator(graph, report.notes)
    for principal in report.principals:
        for store in report.stores:
            allowed, refused = evaluator.store_actions(principal, store)
            report.access.setdefault(principal.id, {})[store.id] = allowed
            if refused:
                report.refused_by_key.setdefault(principal.id, {})[store.id] = refused
    return report


# -- text ----------------------------------------------------------------------------------

def render_access(report: AccessReport, *, every: bool = False) -> list[str]:
    """The matrix as lines: principal, then each store it reaches and the actions allowed there."""
    lines = [f"Access to the data stores of stack {report.stack} ({len(report.principals)} principals, "
             f"{len(report.stores)} stores), from the graph's identity, bucket and key policies"]
    silent: list[str] = []
    for principal in report.principals:
        reached = {s: a for s, a in report.access.get(principal.id, {}).items() if a}
        refused = report.refused_by_key.get(principal.id, {})
        title = principal.name if principal.kind == "service" else f"{principal.name} ({principal.id})"
        if not reached and not refused and not every:
            silent.append(principal.name)
            continue
        lines.append("")
        lines.append(f"{principal.kind} {title}")
        if principal.managed:
            managed = ", ".join(arn.rsplit("/", 1)[1] for arn in principal.managed)
            lines.append(f"  managed policies (not evaluated): {managed}")
        if not reached and not refused:
            lines.append("  none")
        for store_id in sorted(set(reached) | set(refused)):
            lines.append(f"  {store_id}")
            lines.extend(f"    {action}" for action in reached.get(store_id, []))
            lines.extend(f"    {action}: refused by the store's KMS key policy" for action in refused.get(store_id, []))
    if silent:
        lines.append("")
        lines.append(f"no access ({len(silent)}): " + ", ".join(silent))
    if report.network:
        lines.append("")
        lines.append("Network paths to the database and the cache (pods' security groups, the stores' ingress, "
                     "NetworkPolicies)")
        for workload, stores in sorted(report.network.items()):
            if stores:
                reached = (f"{store} port {port}" for store, port in sorted(stores.items()))
                lines.append(f"  {workload} -> " + ", ".join(reached))
        unreached = sorted(w for w, stores in report.network.items() if not stores)
        if unreached:
            lines.append(f"  no path ({len(unreached)}): " + ", ".join(unreached))
    for note in sorted(set(report.notes)):
        lines.append(f"note: {note}")
    return lines
