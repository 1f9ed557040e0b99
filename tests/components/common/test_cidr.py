"""Subnet planning: properties that must hold for every private VPC CIDR and AZ count."""

from __future__ import annotations

import ipaddress
from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.common.cidr import AZ_SLOTS, TIERS, plan_subnets, subnet_cidr

RFC1918 = [ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]


@st.composite
def vpc_cidrs(draw) -> str:
    """An aligned RFC 1918 network of prefix /16 to /22."""
    block = draw(st.sampled_from(RFC1918))
    prefix = draw(st.integers(min_value=16, max_value=22))
    index = draw(st.integers(min_value=0, max_value=2 ** (prefix - block.prefixlen) - 1))
    return str(ipaddress.IPv4Network((int(block.network_address) + index * 2 ** (32 - prefix), prefix)))


az_counts = st.integers(min_value=1, max_value=AZ_SLOTS)


def networks(plan):
    return [ipaddress.IPv4Network(subnet.cidr) for subnet in plan]


@settings(max_examples=100)
@given(vpc_cidr=vpc_cidrs(), az_count=az_counts)
def test_every_subnet_lies_inside_the_vpc_and_is_at_least_a_slash_28(vpc_cidr, az_count):
    vpc = ipaddress.IPv4Network(vpc_cidr)

    for subnet in networks(plan_subnets(vpc_cidr, az_count)):
        assert subnet.subnet_of(vpc)
        assert subnet.prefixlen <= 28


@settings(max_examples=100)
@given(vpc_cidr=vpc_cidrs(), az_count=az_counts)
def test_no_two_subnets_overlap(vpc_cidr, az_count):
    for first, second in combinations(networks(plan_subnets(vpc_cidr, az_count)), 2):
        assert not first.overlaps(second), (first, second)


@settings(max_examples=100)
@given(vpc_cidr=vpc_cidrs(), az_count=az_counts)
def test_the_last_eighth_of_the_vpc_stays_free(vpc_cidr, az_count):
    reserved = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3))[-1]

    for subnet in networks(plan_subnets(vpc_cidr, az_count)):
        assert not subnet.overlaps(reserved)


@settings(max_examples=100)
@given(vpc_cidr=vpc_cidrs(), az_count=az_counts)
def test_one_subnet_per_tier_and_az_with_private_the_largest(vpc_cidr, az_count):
    plan = plan_subnets(vpc_cidr, az_count)

    assert sorted((subnet.tier, subnet.az_index) for subnet in plan) == sorted(
        (tier, index) for tier in TIERS for index in range(az_count)
    )
    assert len(TIERS) == 3
    sizes = {tier: {ipaddress.IPv4Network(s.cidr).num_addresses for s in plan if s.tier == tier} for tier in TIERS}
    assert all(len(tier_sizes) == 1 for tier_sizes in sizes.values())
    assert min(sizes["private"]) > max(sizes["isolated"] | sizes["public"])


@settings(max_examples=100)
@given(vpc_cidr=vpc_cidrs(), az_count=az_counts)
def test_growing_the_az_count_never_renumbers_a_subnet(vpc_cidr, az_count):
    full = {(subnet.tier, subnet.az_index): subnet.cidr for subnet in plan_subnets(vpc_cidr, AZ_SLOTS)}

    for subnet in plan_subnets(vpc_cidr, az_count):
        assert subnet.cidr == full[(subnet.tier, subnet.az_index)]
        assert subnet.cidr == subnet_cidr(vpc_cidr, subnet.tier, subnet.az_index)


@pytest.mark.parametrize(
    "vpc_cidr, tier, az_index, expected",
    [
        ("10.30.0.0/16", "private", 0, "10.30.0.0/20"),
        ("10.30.0.0/16", "private", 2, "10.30.32.0/20"),
        ("10.30.0.0/16", "isolated", 0, "10.30.128.0/21"),
        ("10.30.0.0/16", "isolated", 1, "10.30.136.0/21"),
        ("10.30.0.0/16", "public", 0, "10.30.192.0/22"),
        ("10.30.0.0/16", "public", 7, "10.30.220.0/22"),
        ("192.168.4.0/22", "private", 0, "192.168.4.0/26"),
        ("192.168.4.0/22", "isolated", 0, "192.168.6.0/27"),
        ("192.168.4.0/22", "public", 7, "192.168.7.112/28"),
    ],
)
def test_worked_examples(vpc_cidr, tier, az_index, expected):
    assert subnet_cidr(vpc_cidr, tier, az_index) == expected


@pytest.mark.parametrize(
    "vpc_cidr, tier, az_index, fragments",
    [
        ("10.30.0.0/16", "private", -1, ["AZ index -1", f"0..{AZ_SLOTS - 1}"]),
        ("10.30.0.0/16", "private", AZ_SLOTS, [f"AZ index {AZ_SLOTS}", f"0..{AZ_SLOTS - 1}"]),
        ("10.30.0.0/15", "private", 0, ["10.30.0.0/15", "between /16 and /22"]),
        ("10.30.0.0/23", "private", 0, ["10.30.0.0/23", "between /16 and /22"]),
        ("10.30.0.0/16", "dmz", 0, ["unknown tier 'dmz'", "public, private, isolated"]),
    ],
)
def test_out_of_range_inputs_raise_a_helpful_value_error(vpc_cidr, tier, az_index, fragments):
    with pytest.raises(ValueError) as info:
        subnet_cidr(vpc_cidr, tier, az_index)

    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize("az_count", [0, -1, AZ_SLOTS + 1])
def test_planning_an_az_count_outside_the_slots_raises(az_count):
    with pytest.raises(ValueError, match=rf"az_count {az_count} is outside 1\.\.{AZ_SLOTS}"):
        plan_subnets("10.30.0.0/16", az_count)
