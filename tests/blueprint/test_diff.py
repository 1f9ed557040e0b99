"""Engine-faithful URNs, resolved aliases and the graph diff that proves a refactor replaces nothing."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from blueprint.diff import diff_graphs
from blueprint.mocks import engine_urn
from blueprint.synth import run_program

CONFIG = {"aws:region": "eu-west-1"}


class _Box(pulumi.ComponentResource):
    def __init__(self, type_: str, name: str, opts: pulumi.ResourceOptions | None = None):
        super().__init__(type_, name, None, opts)
        self.register_outputs({})


def _flat() -> None:
    outer = _Box("test:index:Outer", "outer")
    inner = _Box("test:index:Inner", "inner", pulumi.ResourceOptions(parent=outer))
    aws.sqs.Queue("queue", opts=pulumi.ResourceOptions(parent=inner))


def _nested(aliased: bool) -> None:
    """The same queue, one component deeper (as a regional slice adds a level)."""
    outer = _Box("test:index:Outer", "outer")
    slice_ = _Box("test:index:Slice", "slice", pulumi.ResourceOptions(parent=outer))
    aliases = [pulumi.Alias(type_="test:index:Inner", parent=outer)] if aliased else []
    inner = _Box("test:index:Renamed", "inner", pulumi.ResourceOptions(parent=slice_, aliases=aliases))
    aws.sqs.Queue("queue", opts=pulumi.ResourceOptions(parent=inner))


def _graph(program):
    return run_program(program, project="demo", stack="dev", config=CONFIG)


def test_urns_carry_the_whole_type_chain_as_the_engine_builds_them():
    graph = _graph(_flat)
    queue = graph.one("aws:sqs/queue:Queue")
    assert queue.urn == "urn:pulumi:dev::demo::test:index:Outer$test:index:Inner$aws:sqs/queue:Queue::queue"
    # Top-level resources leave the root stack's type out.
    assert graph.one("test:index:Outer").urn == "urn:pulumi:dev::demo::test:index:Outer::outer"


def test_engine_urn_under_the_root_stack():
    stack = "urn:pulumi:dev::demo::pulumi:pulumi:Stack::demo-dev"
    assert engine_urn("dev", "demo", stack, "a:b:C", "x") == "urn:pulumi:dev::demo::a:b:C::x"


def test_an_identical_graph_has_no_changes():
    assert diff_graphs(_graph(_flat), _graph(_flat)).empty


def test_a_move_without_aliases_replaces_everything_below_it():
    result = diff_graphs(_graph(_flat), _graph(lambda: _nested(aliased=False)))
    assert not result.empty
    assert any(urn.endswith("::queue") for urn in result.deleted)
    assert any(urn.endswith("::queue") for urn in result.created)


def test_a_move_with_an_alias_is_matched_down_to_the_children():
    old = _graph(_flat)
    new = _graph(lambda: _nested(aliased=True))
    result = diff_graphs(old, new)
    # Only the new slice component is created; the moved component and its queue are the same
    # resources, found through the alias and the alias the queue inherits from its parent.
    assert result.created == ("urn:pulumi:dev::demo::test:index:Outer$test:index:Slice::slice",)
    assert result.deleted == ()
    assert old.one("aws:sqs/queue:Queue").urn in new.one("aws:sqs/queue:Queue").aliases
    # The type token and the parent changed on purpose, through the alias: a move, not a change.
    assert result.changed == ()
    assert sorted(result.moved.values()) == sorted(r.urn for r in old if r.name in ("inner", "queue"))
    assert result.cloud == ((), (), ())


def test_a_changed_input_is_named():
    def renamed_queue() -> None:
        outer = _Box("test:index:Outer", "outer")
        inner = _Box("test:index:Inner", "inner", pulumi.ResourceOptions(parent=outer))
        aws.sqs.Queue("queue", message_retention_seconds=60, opts=pulumi.ResourceOptions(parent=inner))

    result = diff_graphs(_graph(_flat), _graph(renamed_queue))
    assert [c.fields for c in result.changed] == [("inputs.messageRetentionSeconds",)]
    assert [c.urn for c in result.cloud[2]] == [_graph(_flat).one("aws:sqs/queue:Queue").urn]
