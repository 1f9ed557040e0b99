"""``python -m blueprint access``: who can reach the data, from the graph's own documents."""

from __future__ import annotations

import json
from functools import cache

import pulumi
import pulumi_aws as aws
import pytest

from blueprint import ResourceGraph
from blueprint.__main__ import EXIT_BAD_INPUT, EXIT_OK, main
from blueprint.access import AccessReport, access_report, render_access
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.data.object_storage import ObjectStore, ObjectStoreArgs
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

SERVICE_ROLES = ("cart-role", "catalog-role", "checkout-role", "storefront-role")
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "ec2.amazonaws.com"}}]}
READ = {"s3:GetObject", "s3:ListBucket"}


@pytest.fixture
def prod_report(graph_of) -> AccessReport:
    return _report(graph_of("prod"))


_REPORTS: dict[int, tuple[ResourceGraph, AccessReport]] = {}


def _report(graph: ResourceGraph) -> AccessReport:
    """One report per graph for the session (graphs are frozen but hold dicts: keyed by identity)."""
    if id(graph) not in _REPORTS:
        _REPORTS[id(graph)] = (graph, access_report(graph))
    return _REPORTS[id(graph)][1]


def _role(report: AccessReport, name: str) -> str:
    (principal,) = [p.id for p in report.principals if p.kind == "role" and p.name == name]
    return principal


def _store(report: AccessReport, kind: str, fragment: str, *, dr: bool = False) -> str:
    """The primary region's store (prod has the DR region's replica too: logical name ``dr-...``),
    or with ``dr`` the DR one."""
    (store,) = [s.id for s in report.stores if s.kind == kind and (fragment in s.id or fragment in s.name)
                and s.name.startswith("dr-") == dr]
    return store


def _reached(report: AccessReport, principal: str) -> dict[str, list[str]]:
    return {store: actions for store, actions in report.access[principal].items() if actions}


@cache
def granted_graph(key_policy: str) -> ResourceGraph:
    """The object store alone, with prod's data key (its real key policy), and four roles: one
    granted read on assets, one with nothing, and two with a hand-written read policy whose
    kms:Decrypt is scoped to S3 (the right service) or to DynamoDB (the wrong one)."""
    flat = PROJECT.stack_config("prod")
    config = parse_stack_config(flat)
    def program() -> None:
        key = aws.kms.Key("data-key", policy=key_policy, multi_region=True,
                          description="prod's data key policy")
        store = ObjectStore("storage", stack_context(conventions=config.conventions("prod"), region=config.region,
                                                     account_id=ACCOUNT_ID),
                            ObjectStoreArgs(settings=config.storage, data_key_arn=key.arn))
        roles = {name: aws.iam.Role(name, assume_role_policy=json.dumps(TRUST), name=f"retail-prod-{name}")
                 for name in ("reader", "bystander", "via-s3", "via-dynamodb")}
        store.grant_read(roles["reader"], "assets")
        for name, service in (("via-s3", "s3"), ("via-dynamodb", "dynamodb")):
            aws.iam.RolePolicy(name, role=roles[name].id, policy=pulumi.Output.all(
                store.bucket_arn("assets"), key.arn).apply(
                lambda arns, service=service: json.dumps(_hand_written_read(arns[0], arns[1], service, config.region))))

    return run_program(program, project=PROJECT.name, stack="prod", config=flat)


def _hand_written_read(bucket_arn: str, key_arn: str, service: str, region: str) -> dict:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{bucket_arn}/*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": f"{service}.{region}.amazonaws.com"}}}]}


@pytest.fixture
def granted(graph_of) -> AccessReport:
    return _report(granted_graph(graph_of("prod").one("aws:kms/key:Key", "keys-data").inputs["policy"]))


# -- (a) a grant helper's role reads its bucket and nothing else --------------------------------

def test_grant_read_shows_exactly_read_actions_on_that_bucket(granted):
    reader, assets = _role(granted, "reader"), _store(granted, "s3", "assets")
    key = _store(granted, "kms", "data-key")
    reached = _reached(granted, reader)
    assert set(reached) == {assets, key}
    assert set(reached[assets]) == READ
    assert reached[key] == ["kms:Decrypt via s3"]  # the grant's key statement: through S3 only
    buckets = [s.id for s in granted.stores if s.kind == "s3"]
    assert len(buckets) == 4
    for bucket in set(buckets) - {assets}:
        assert granted.allowed(reader, bucket) == []


# -- (b) no grant, no access ---------------------------------------------------------------

def test_a_role_without_a_grant_reaches_nothing(granted):
    assert _reached(granted, _role(granted, "bystander")) == {}


def test_each_service_reaches_exactly_the_stores_it_declares_and_only_as_declared(prod_report):
    # The flow test: evaluated end to end (identity + resource + key policy) from the graph's own
    # documents. A declared path missing, or an undeclared one present, fails it.
    config = parse_stack_config(PROJECT.stack_config("prod"), "prod")
    writes = {"dynamodb:PutItem", "dynamodb:DeleteItem", "s3:PutObject", "s3:DeleteObject"}
    for service in config.services:
        # Keyed by kind too: the orders table and the orders stream share a name.
        reached = {store: actions for store, actions in
                   _reached(prod_report, _role(prod_report, f"{service.name}-role")).items()
                   if not store.startswith("kms:")}
        expected = {f"dynamodb:retail-prod-{table}" for table in service.uses.tables}
        expected |= {f"s3:retail-prod-{purpose.replace('dataLake', 'data-lake')}-123456789012"
                     for purpose in service.uses.buckets}
        # RDS Proxy is on in prod's primary: the service signs in to the proxy, never the cluster.
        expected |= {"rds-proxy:retail-prod-sql-proxy"} if service.uses.sql else set()
        expected |= {"elasticache:retail-prod-cache"} if service.uses.cache else set()
        expected |= {f"kinesis:retail-prod-{stream}" for stream in service.uses.streams}
        assert set(reached) == expected, service.name
        for table, access in service.uses.tables.items():
            granted_writes = writes & set(reached[f"dynamodb:retail-prod-{table}"])
            assert bool(granted_writes) is (access == "readWrite"), (service.name, table)
        for stream, access in service.uses.streams.items():
            # A producer puts records and reads nothing back; a consumer only reads.
            assert reached[f"kinesis:retail-prod-{stream}"] == (["kinesis:PutRecord"] if access == "write"
                                                                else ["kinesis:GetRecords"]), (service.name, stream)
        if service.uses.sql:
            assert reached["rds-proxy:retail-prod-sql-proxy"] == [f"rds-db:connect as {service.uses.sql.user}"]
        assert prod_report.refused_by_key.get(_role(prod_report, f"{service.name}-role"), {}) == {}, service.name


def test_the_database_is_signed_in_to_through_the_proxy_in_the_primary_and_directly_in_the_dr_slice(prod_report):
    # Who signs in where, as which user: the primary's cluster admits only the proxy's role (as the
    # declaring services' users), the proxy admits only the declaring services' roles, and the DR
    # secondary (no proxy) admits the DR slice's declaring roles directly.
    config = parse_stack_config(PROJECT.stack_config("prod"), "prod")
    users = {service.name: service.uses.sql.user for service in config.services if service.uses.sql}
    assert users
    stores = {"rds-proxy:retail-prod-sql-proxy", "rds:retail-prod-sql", "rds:retail-prod-dr-sql"}
    assert stores <= {s.id for s in prod_report.stores}
    signing_in = {store: {p.name: prod_report.access[p.id][store] for p in prod_report.principals
                          if prod_report.access[p.id].get(store)} for store in stores}
    connect = {name: [f"rds-db:connect as {user}"] for name, user in users.items()}
    assert signing_in == {
        "rds-proxy:retail-prod-sql-proxy": {f"{name}-role": actions for name, actions in connect.items()},
        "rds:retail-prod-sql": {"sql-proxy-role": sorted({f"rds-db:connect as {user}" for user in users.values()})},
        "rds:retail-prod-dr-sql": {f"dr-{name}-role": actions for name, actions in connect.items()},
    }


# -- (c) kms:ViaService for another service does not decrypt --------------------------------------

def test_decrypt_scoped_to_another_service_cannot_read_the_kms_encrypted_bucket(granted):
    assets = _store(granted, "s3", "assets")
    right, wrong = _role(granted, "via-s3"), _role(granted, "via-dynamodb")
    assert granted.allowed(right, assets) == ["s3:GetObject"]
    assert granted.allowed(wrong, assets) == []
    assert granted.refused_by_key[wrong] == {assets: ["s3:GetObject"]}


def test_the_cdn_path_is_allowed_end_to_end_and_reaches_nothing_else(prod_report):
    # The bucket policy and the data key's policy (managed by its KeyPolicy) both admit this
    # distribution: CloudFront reads the assets, and no other store. Its origin group fails over
    # to the DR region's replica of the assets: that one's policy and replica key admit it too.
    assets, dr_assets = _store(prod_report, "s3", "assets"), _store(prod_report, "s3", "assets", dr=True)
    assert prod_report.allowed("cloudfront.amazonaws.com", assets) == ["s3:GetObject"]
    assert prod_report.allowed("cloudfront.amazonaws.com", dr_assets) == ["s3:GetObject"]
    assert prod_report.refused_by_key.get("cloudfront.amazonaws.com", {}) == {}
    reached = {store for store in _reached(prod_report, "cloudfront.amazonaws.com") if not store.startswith("kms:")}
    assert reached == {assets, dr_assets}


def test_the_ebs_driver_uses_the_data_key_only_through_ec2(prod_report):
    key = _store(prod_report, "kms", "keys-data")
    actions = prod_report.allowed(_role(prod_report, "eks-ebs-csi"), key)
    assert "kms:Decrypt via ec2" in actions
    assert "kms:Decrypt" not in actions


def test_every_store_kind_and_principal_is_listed(prod_report):
    assert {s.kind for s in prod_report.stores} == {"s3", "dynamodb", "rds", "elasticache", "kms", "kinesis",
                                                          "redshift-serverless"}
    names = {p.name for p in prod_report.principals}
    assert set(SERVICE_ROLES) <= names
    assert {"cloudfront.amazonaws.com", "logs.eu-west-1.amazonaws.com"} <= names
    assert prod_report.notes == []


def test_rebuilt_arns_are_the_ones_the_documents_name(graph_of, prod_report):
    # The mocks' ARN scheme, rebuilt: each bucket's own policy and each encrypted store's key
    # reference must name exactly these ARNs, or the evaluation would silently miss.
    graph = graph_of("prod")
    policies = {r.inputs["bucket"]: r.inputs["policy"] for r in graph.of_type("aws:s3/bucketPolicy:BucketPolicy")}
    keys = {s.arn for s in prod_report.stores if s.kind == "kms"}
    for store in prod_report.stores:
        if store.kind == "s3":
            assert f'"{store.arn}"' in policies[store.id.removeprefix("s3:")]
        if store.kms_key:
            assert store.kms_key in keys, store.id
    roles = {r.id for r in graph.of_type("aws:iam/role:Role")}
    assert {p.id.rsplit("/", 1)[1] for p in prod_report.principals if p.kind == "role"} == roles


# -- (d) the JSON is byte-stable --------------------------------------------------------------

def test_json_is_byte_stable(graph_of, tmp_path):
    graph = graph_of("prod")
    first = access_report(graph).dumps()
    again = access_report(ResourceGraph.from_json(json.loads(graph.dumps()))).dumps()
    assert first == again
    data = json.loads(first)
    assert data["schemaVersion"] == 1 and data["stack"] == "prod"
    assert first == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert main(["access", "prod", "--json", str(tmp_path / "a.json")]) == EXIT_OK
    assert (tmp_path / "a.json").read_text() == first


# -- (e) the command ----------------------------------------------------------------------------

def test_cli_prints_the_matrix_for_prod(capsys, prod_report):
    assert main(["access", "prod"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.splitlines() == render_access(prod_report)
    assert "role eks-ebs-csi" in out and "kms:Decrypt via ec2" in out
    # Every workload role reaches the data it declares: none is listed without access.
    no_access = next(line for line in out.splitlines() if line.startswith("no access"))
    assert not any(name in no_access for name in SERVICE_ROLES)
    assert "role checkout-role" in out and "rds-db:connect as checkout_app" in out


def test_cli_all_lists_principals_without_access(capsys):
    assert main(["access", "prod", "--all"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "role cart-role" in out and "  none" in out and "no access" not in out


def test_cli_refuses_an_unknown_stack(capsys):
    assert main(["access", "nope"]) == EXIT_BAD_INPUT
    assert "nope" in capsys.readouterr().err
