"""Naming and tagging conventions: the standard tags every resource carries, bounded names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.common.conventions import STANDARD_TAG_KEYS, Conventions

CONVENTIONS = Conventions(
    environment="prod",
    owner="platform-team@example.com",
    cost_center="cc-4100-prod",
    data_classification="restricted",
    stack="prod",
)


def test_standard_tags_are_exactly_the_standard_keys_in_documented_order():
    assert tuple(CONVENTIONS.standard_tags) == STANDARD_TAG_KEYS


def test_standard_tags_carry_the_stacks_values_and_managed_by_pulumi():
    assert CONVENTIONS.standard_tags == {
        "environment": "prod",
        "owner": "platform-team@example.com",
        "cost-center": "cc-4100-prod",
        "data-classification": "restricted",
        "managed-by": "pulumi",
        "stack": "prod",
    }


def test_tags_without_arguments_are_the_standard_tags():
    assert CONVENTIONS.tags() == CONVENTIONS.standard_tags


def test_tags_add_the_name_and_extra_tags():
    tags = CONVENTIONS.tags("retail-prod-vpc", {"tier": "private", "kubernetes.io/role/internal-elb": "1"})

    assert tags == {
        **CONVENTIONS.standard_tags,
        "Name": "retail-prod-vpc",
        "tier": "private",
        "kubernetes.io/role/internal-elb": "1",
    }


@pytest.mark.parametrize("key", STANDARD_TAG_KEYS)
def test_an_extra_tag_cannot_override_a_standard_tag(key):
    with pytest.raises(ValueError, match=f"tag '{key}' is a standard tag and cannot be overridden"):
        CONVENTIONS.tags("x", {key: "something-else"})


@pytest.mark.parametrize(
    "stack, parts, expected",
    [
        ("prod", ("logs",), "retail-prod-logs"),
        ("Prod", ("Checkout", "Assets"), "retail-prod-checkout-assets"),
        ("dev", (), "retail-dev"),
    ],
)
def test_physical_names_are_lower_case_project_stack_parts(stack, parts, expected):
    conventions = Conventions(environment="dev", owner="o", cost_center="c", data_classification="internal",
                              stack=stack)

    assert conventions.physical_name(*parts) == expected


def test_a_physical_name_of_exactly_the_limit_is_allowed_and_one_more_character_is_not():
    prefix = "retail-prod-"
    fits = "a" * (63 - len(prefix))

    assert CONVENTIONS.physical_name(fits) == prefix + fits
    with pytest.raises(ValueError, match="longer than 63 characters"):
        CONVENTIONS.physical_name(fits + "a")


def test_max_length_can_be_loosened_and_tightened():
    long_part = "a" * 100

    assert len(CONVENTIONS.physical_name(long_part, max_length=256)) == len("retail-prod-") + 100
    with pytest.raises(ValueError, match="longer than 10 characters"):
        CONVENTIONS.physical_name("logs", max_length=10)


@given(parts=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
                              min_size=1, max_size=20), max_size=4))
def test_physical_names_start_with_project_and_stack_and_respect_the_limit(parts):
    try:
        name = CONVENTIONS.physical_name(*parts)
    except ValueError:
        assert len("-".join(("retail", "prod", *parts))) > 63
    else:
        assert name == name.lower()
        assert name.startswith("retail-prod")
        assert len(name) <= 63
