"""The stack context: one frozen value per stack, moved to another region without changing anything else."""

from __future__ import annotations

import dataclasses

import pytest

from components.common.context import StackContext
from components.common.conventions import Conventions

CONVENTIONS = Conventions(
    environment="prod",
    owner="platform-team@example.com",
    cost_center="cc-4100-prod",
    data_classification="restricted",
    # A stack name that is not the environment's, so the two cannot be confused.
    stack="eu-prod",
)

CONTEXT = StackContext(conventions=CONVENTIONS, region="eu-west-1", account_id="111122223333",
                       partition="aws", protect=True)


@pytest.mark.parametrize("field, value", [
    ("region", "eu-central-1"),
    ("account_id", "444455556666"),
    ("partition", "aws-us-gov"),
    ("protect", False),
    ("conventions", dataclasses.replace(CONVENTIONS, environment="dev")),
])
def test_a_context_cannot_be_changed_once_made(field, value):
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(CONTEXT, field, value)
    assert getattr(CONTEXT, field) != value


def test_in_region_gives_a_context_in_the_other_region():
    moved = CONTEXT.in_region("eu-central-1")
    assert moved.region == "eu-central-1"


def test_in_region_leaves_the_original_context_where_it_was():
    moved = CONTEXT.in_region("us-east-1")
    assert moved is not CONTEXT
    assert CONTEXT.region == "eu-west-1"


def test_in_region_shares_everything_but_the_region():
    moved = CONTEXT.in_region("eu-central-1")
    assert moved.conventions is CONTEXT.conventions
    assert moved.account_id is CONTEXT.account_id
    assert moved.partition is CONTEXT.partition
    # Not reset to its default: the DR slice of a prod stack protects its data too.
    assert moved.protect is True
    assert dataclasses.replace(moved, region=CONTEXT.region) == CONTEXT


def test_environment_is_the_conventions_environment_not_the_stack_name():
    assert CONTEXT.environment == CONVENTIONS.environment == "prod"
    assert CONTEXT.environment != CONVENTIONS.stack
    other = dataclasses.replace(CONTEXT, conventions=dataclasses.replace(CONVENTIONS, environment="staging"))
    assert other.environment == "staging"


def test_the_environment_travels_with_the_context_to_another_region():
    assert CONTEXT.in_region("eu-central-1").environment == "prod"


def test_stateful_resources_are_unprotected_unless_the_stack_says_so():
    context = StackContext(conventions=CONVENTIONS, region="eu-west-1", account_id="111122223333", partition="aws")
    assert context.protect is False
