"""The LoadBalancer as a DR region builds it: a second ALB for the same origin name."""

from __future__ import annotations

from functools import cache

from blueprint import ResourceGraph
from blueprint.synth import run_program
from components.edge.load_balancer import LoadBalancer, LoadBalancerArgs
from tests.components.edge.test_load_balancer import (
    ALB,
    CERTIFICATE,
    DOMAIN,
    LOGS_BUCKET,
    PUBLIC_SUBNETS,
    RECORD,
    SECRET,
    VALIDATION,
    VPC_CIDR,
    VPC_ID,
    graph,
    stack_config,
)
from tests.support import stack_context

DR_REGION = "eu-central-1"
PRIMARY_REGION = "eu-west-1"


@cache
def both_regions() -> tuple[ResourceGraph, dict[str, LoadBalancer]]:
    """The primary's and the DR slice's LoadBalancer in one program, as the integrator wires them."""
    config = stack_config("prod", DOMAIN)
    built: dict[str, LoadBalancer] = {}

    def program() -> None:
        context = stack_context(conventions=config.conventions("prod"), region=PRIMARY_REGION, protect=True)
        for prefix, ctx in (("", context), ("dr-", context.for_dr(DR_REGION))):
            built[ctx.region] = LoadBalancer(f"{prefix}edge", ctx, LoadBalancerArgs(
                vpc_id=VPC_ID, vpc_cidr=VPC_CIDR, public_subnet_ids=list(PUBLIC_SUBNETS),
                logs_bucket_name=LOGS_BUCKET, origin_secret=SECRET, services=config.services,
                domain=config.edge.domain, origin_record=False, regional_origin=True))

    return run_program(program, project="retail", stack="prod", config={"aws:region": PRIMARY_REGION}), built


def by_region(g: ResourceGraph, type_: str):
    return {r.region: r for r in g.of_type(type_)}


def test_zonal_shift_is_on():
    assert graph().one(ALB).inputs["enableZonalShift"] is True
    assert {alb.inputs["enableZonalShift"] for alb in both_regions()[0].of_type(ALB)} == {True}


def test_each_region_has_its_own_certificate_for_the_shared_origin_name_and_its_own_name():
    certificates = by_region(both_regions()[0], CERTIFICATE)
    assert set(certificates) == {PRIMARY_REGION, DR_REGION}
    for region, certificate in certificates.items():
        assert certificate.inputs["domainName"] == "origin.shop.example.com"
        assert certificate.inputs["subjectAlternativeNames"] == [f"origin-{region}.shop.example.com"]


def test_the_shared_validation_records_may_be_written_twice():
    g = both_regions()[0]
    validations = [r for r in g.of_type(RECORD) if r.inputs.get("type") == "CNAME"]
    shared = [r for r in validations if r.inputs["name"].startswith("_") and ".origin.shop" in r.inputs["name"]]
    # Both regions' certificates ask for the very same CNAME for origin.shop.example.com.
    assert len(shared) == 2 and len({r.inputs["name"] for r in shared}) == 1
    assert len({tuple(r.inputs["records"]) for r in shared}) == 1
    assert all(r.inputs["allowOverwrite"] is True for r in validations)
    # Each validation waits for both of its names' records.
    for validation in g.of_type(VALIDATION):
        assert len(validation.inputs["validationRecordFqdns"]) == 2


def test_without_origin_record_only_the_regional_names_are_aliased_to_their_own_alb():
    g, built = both_regions()
    aliases = [r for r in g.of_type(RECORD) if r.inputs.get("type") == "A"]
    assert "origin.shop.example.com" not in {r.inputs["name"] for r in aliases}
    assert len(aliases) == 2
    for region, lb in built.items():
        [record] = [r for r in aliases if r.inputs["name"] == f"origin-{region}.shop.example.com"]
        alb = next(a for a in g.of_type(ALB) if a.region == region)
        assert record.inputs["aliases"][0]["name"].endswith(f".{region}.elb.amazonaws.com")
        assert record.inputs["aliases"][0]["name"].startswith(alb.inputs["name"])
        assert lb.regional_origin_domain_name == f"origin-{region}.shop.example.com"


def test_dr_names_carry_the_dr_qualifier():
    names = {alb.region: alb.inputs["name"] for alb in both_regions()[0].of_type(ALB)}
    assert names[PRIMARY_REGION] == "retail-prod-edge"
    assert names[DR_REGION].startswith("retail-prod-dr-")


def test_default_keeps_the_simple_origin_record_and_one_name_certificate():
    g = graph()
    assert [r.inputs["name"] for r in g.of_type(RECORD) if r.inputs.get("type") == "A"] == ["origin.shop.example.com"]
    assert "subjectAlternativeNames" not in g.one(CERTIFICATE).inputs
