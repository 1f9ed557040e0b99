"""The Cdn with DR origins: origin groups for the assets and the read-only services."""

from __future__ import annotations

from functools import cache

import pytest

from blueprint import ResourceGraph
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.edge.cdn import (
    ALB_GROUP_ID,
    ASSETS_GROUP_ID,
    ASSETS_PATH_PATTERN,
    DR_ALB_ORIGIN_ID,
    DR_ASSETS_ORIGIN_ID,
    AssetsBucket,
    Cdn,
    CdnArgs,
)
from tests.components.edge.test_cdn import (
    ASSETS,
    DOMAIN,
    LOGS_ARN,
    OAC,
    ORIGIN,
    SECRET,
    WEB_ACL,
    behaviours,
    built,
    distribution,
    origins,
    stack_config,
)
from tests.support import stack_context

DR_REGION = "eu-central-1"
DR_ASSETS = AssetsBucket(name=f"retail-prod-dr-assets-{ACCOUNT_ID}",
                         arn=f"arn:aws:s3:::retail-prod-dr-assets-{ACCOUNT_ID}",
                         regional_domain_name=f"retail-prod-dr-assets-{ACCOUNT_ID}.s3.{DR_REGION}.amazonaws.com")
DR_ORIGIN = f"origin-{DR_REGION}.shop.example.com"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def args(config, **extra) -> CdnArgs:
    return CdnArgs(settings=config.edge, assets_bucket=ASSETS, web_acl_arn=WEB_ACL, logs_bucket_arn=LOGS_ARN,
                   origin_domain_name=ORIGIN, origin_secret=SECRET, services=config.services, **extra)


@cache
def with_dr(read_only: frozenset[str] = frozenset({"catalog"})) -> ResourceGraph:
    config = stack_config("prod", domain=DOMAIN)

    def program() -> None:
        Cdn("cdn", stack_context(conventions=config.conventions("prod")),
            args(config, dr_assets_bucket=DR_ASSETS, dr_origin_domain_name=DR_ORIGIN, read_only_services=read_only))

    return run_program(program, project="retail", stack="prod", config={"aws:region": config.region})


def groups(g: ResourceGraph) -> dict[str, dict]:
    return {group["originId"]: group for group in distribution(g).inputs["originGroups"]}


def test_assets_fail_over_to_the_replica_bucket_through_oac():
    g = with_dr()
    replica = origins(g)[DR_ASSETS_ORIGIN_ID]
    assert replica["domainName"] == DR_ASSETS.regional_domain_name
    assert replica["originAccessControlId"] == g.one(OAC).id == origins(g)["assets"]["originAccessControlId"]
    group = groups(g)[ASSETS_GROUP_ID]
    assert [m["originId"] for m in group["members"]] == ["assets", DR_ASSETS_ORIGIN_ID]
    # Not 403/404: the replica holds no more than the primary, and S3 answers 403 for a missing key.
    assert sorted(group["failoverCriteria"]["statusCodes"]) == [500, 502, 503, 504]
    assert behaviours(g)[ASSETS_PATH_PATTERN]["targetOriginId"] == ASSETS_GROUP_ID


def test_dr_alb_is_reached_by_its_regional_name_like_the_primary():
    g = with_dr()
    primary, dr = origins(g)["alb"], origins(g)[DR_ALB_ORIGIN_ID]
    assert primary["domainName"] == ORIGIN and dr["domainName"] == DR_ORIGIN
    assert dr["customOriginConfig"] == primary["customOriginConfig"]
    assert dr["customHeaders"] == [{"name": "X-Origin-Verify", "value": SECRET}]
    group = groups(g)[ALB_GROUP_ID]
    assert [m["originId"] for m in group["members"]] == ["alb", DR_ALB_ORIGIN_ID]
    assert sorted(group["failoverCriteria"]["statusCodes"]) == [500, 502, 503, 504]


def test_only_read_only_services_use_the_alb_group_and_they_allow_no_writes():
    g = with_dr()
    shop = behaviours(g)
    for path in ("/catalog", "/catalog/*"):
        assert shop[path]["targetOriginId"] == ALB_GROUP_ID
        assert set(shop[path]["allowedMethods"]) == {"GET", "HEAD"}


def test_services_taking_writes_keep_the_single_failover_name_origin():
    # CloudFront refuses an origin group in a behaviour that allows POST, and would not fail a
    # POST over anyway: these fail over by Route 53 on origin.<host>.
    g = with_dr()
    shop = behaviours(g)
    default = distribution(g).inputs["defaultCacheBehavior"]
    writers = [default, *(shop[p] for p in ("/cart", "/cart/*", "/checkout", "/checkout/*"))]
    for behaviour in writers:
        assert behaviour["targetOriginId"] == "alb"
        assert WRITE_METHODS <= set(behaviour["allowedMethods"])
    every = [default, *shop.values()]
    assert all(not (WRITE_METHODS & set(b["allowedMethods"])) for b in every
               if b["targetOriginId"] in (ALB_GROUP_ID, ASSETS_GROUP_ID))


def test_without_read_only_services_the_dr_alb_is_no_origin_of_the_distribution():
    # Every behaviour then takes writes: a group with the DR ALB would serve nothing.
    g = with_dr(read_only=frozenset())
    assert DR_ALB_ORIGIN_ID not in origins(g) and ALB_GROUP_ID not in groups(g)
    assert ASSETS_GROUP_ID in groups(g)


def test_without_dr_origins_nothing_changes():
    g = built()
    assert "originGroups" not in distribution(g).inputs
    assert set(origins(g)) == {"assets", "alb"}


@pytest.mark.parametrize(("extra", "message"), [
    ({"read_only_services": frozenset({"nope"})}, "not exposed services"),
    ({"dr_origin_domain_name": DR_ORIGIN, "origin_domain_name": None, "origin_secret": None},
     "needs origin_domain_name"),
])
def test_impossible_args_are_refused(extra, message):
    config = stack_config("prod", domain=DOMAIN)
    base = {"origin_domain_name": ORIGIN, "origin_secret": SECRET}
    with pytest.raises(ValueError, match=message):
        run_program(lambda: Cdn("cdn", stack_context(conventions=config.conventions("prod")), CdnArgs(
            settings=config.edge, assets_bucket=ASSETS, web_acl_arn=WEB_ACL, logs_bucket_arn=LOGS_ARN,
            services=config.services, **{**base, **extra})),
            project="retail", stack="prod", config={"aws:region": config.region})
