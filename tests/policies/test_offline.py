"""policies.offline.evaluate: the adapter the plan engine and these tests rely on."""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import Mapping

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UNKNOWN_BOOLEAN_VALUE, UnknownValueError

from policies import offline
from policies.offline import PolicyReport, PolicyViolation, evaluate
from policies.registry import POLICIES

KEY = "aws:kms/key:Key"
VPC = "aws:ec2/vpc:Vpc"


def resource_policy(name, validate, level=EnforcementLevel.MANDATORY):
    return ResourceValidationPolicy(name=name, description=f"TEST: {name}", validate=validate,
                                    enforcement_level=level)


def always_violates(args, report_violation):
    report_violation(f"bad {args.name}", None)


def test_a_crashing_policy_is_reported_and_the_others_still_run(snap):
    def boom(args, report_violation):
        raise KeyError("enableKeyRotation")

    [rotation] = [p for p in POLICIES if p.name == "kms-key-rotation"]
    key = snap(KEY, "data", {})
    report = evaluate([key], [resource_policy("boom", boom), rotation])
    by_policy = report.by_policy()
    [crash] = by_policy["boom"]
    assert crash.message.startswith("policy crashed: KeyError")
    assert crash.urn == key.urn
    assert crash.enforcement == "mandatory"
    assert len(by_policy["kms-key-rotation"]) == 1
    assert report.mandatory_failed


def test_a_crashing_stack_policy_is_reported(snap):
    def boom(args, report_violation):
        raise RuntimeError("no")

    policy = StackValidationPolicy(name="stack-boom", description="TEST", validate=boom)
    [crash] = evaluate([snap(VPC, "main")], [policy]).violations
    assert crash.message == "policy crashed: RuntimeError: no"
    assert crash.urn is None


def test_not_applicable_is_no_violation(snap):
    def skip(args, report_violation):
        args.not_applicable("not mine")
        report_violation("unreachable", None)

    report = evaluate([snap(KEY, "data", {})], [resource_policy("skip", skip)])
    assert report.violations == []
    assert report.evaluated == ["skip"]
    assert not report.mandatory_failed


def test_not_applicable_is_no_violation_in_stack_and_async_policies(snap):
    def skip_stack(args, report_violation):
        args.not_applicable("no VPCs")
        report_violation("unreachable", None)

    async def skip_later(args, report_violation):
        args.not_applicable("not mine")
        report_violation("unreachable", None)

    stack = StackValidationPolicy(name="skip-stack", description="TEST", validate=skip_stack)
    report = evaluate([snap(KEY, "data", {})], [stack, resource_policy("skip-later", skip_later)])
    assert report.violations == []
    assert report.evaluated == ["skip-stack", "skip-later"]


# --- Telling "does not apply" from a crash without pulumi_policy's private names -------------


def test_not_applicable_error_is_what_both_args_raise():
    options = offline._probe_options()
    for args in (ResourceValidationArgs(KEY, {}, "urn", "data", options, None), StackValidationArgs([])):
        with pytest.raises(offline.NotApplicableError) as raised:
            args.not_applicable("because")
        assert type(raised.value) is offline.NotApplicableError


def test_not_applicable_error_never_catches_a_crash_or_an_unknown_value():
    kind = offline.NotApplicableError
    assert kind is not Exception and kind.__module__.startswith("pulumi_policy.")
    assert not issubclass(kind, UnknownValueError)
    assert not issubclass(UnknownValueError, kind)
    for builtin in (RuntimeError, KeyError, TypeError, ValueError, AttributeError):
        assert not issubclass(builtin, kind)


@pytest.mark.parametrize(
    ("resource_raises", "stack_raises"),
    [(RuntimeError, RuntimeError), (Exception, Exception), (None, None), (UnknownValueError, UnknownValueError),
     ("sdk", RuntimeError)],
    ids=["builtin", "bare-exception", "returns", "unknown-value", "two-kinds"],
)
def test_the_probe_refuses_an_answer_it_cannot_catch_safely(monkeypatch, resource_raises, stack_raises):
    sdk = offline.NotApplicableError

    def raiser(kind):
        def not_applicable(self, reason=None):
            if kind is None:
                return
            if kind is UnknownValueError:
                raise UnknownValueError(UNKNOWN_BOOLEAN_VALUE, ["x"])
            raise (sdk if kind == "sdk" else kind)(reason)
        return not_applicable

    monkeypatch.setattr(ResourceValidationArgs, "not_applicable", raiser(resource_raises))
    monkeypatch.setattr(StackValidationArgs, "not_applicable", raiser(stack_raises))
    with pytest.raises(ImportError):
        offline._not_applicable_error()


def test_the_probe_accepts_the_installed_sdk():
    assert offline._not_applicable_error() is offline.NotApplicableError


def test_the_pack_imports_no_private_pulumi_policy_name(repo_root):
    private = []
    for path in sorted((repo_root / "policies").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_policy"):
                private += [f"{path.name}: {node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
                if any(part.startswith("_") for part in (node.module or "").split(".")):
                    private.append(f"{path.name}: {node.module}")
            elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and "pulumi_policy" in ast.unparse(node):
                private.append(f"{path.name}: {ast.unparse(node)}")
    assert private == []


def test_async_validations_are_awaited(snap):
    async def later(args, report_violation):
        report_violation("async says no", None)

    [violation] = evaluate([snap(KEY, "data", {})], [resource_policy("later", later)]).violations
    assert violation.message == "async says no"


def test_awaiting_leaves_the_threads_event_loop_usable(snap):
    # The offline plan runs the Pulumi runtime in the same process after the pack, and the
    # runtime calls asyncio.get_event_loop(); asyncio.run would leave it raising.
    async def later(args, report_violation):
        report_violation("async says no", None)

    evaluate([snap(KEY, "data", {})], [resource_policy("later", later)])
    assert not asyncio.get_event_loop().is_closed()


def test_resource_violations_always_name_the_resource(snap):
    # The engine ignores the urn a resource policy passes; offline must agree.
    def elsewhere(args, report_violation):
        report_violation("x", "urn:pulumi:test::retail::aws:ec2/vpc:Vpc::other")

    key = snap(KEY, "data", {})
    [violation] = evaluate([key], [resource_policy("elsewhere", elsewhere)]).violations
    assert violation.urn == key.urn


def test_unknown_values_are_advisory_like_in_preview(snap):
    key = snap(KEY, "data", {"enableKeyRotation": UNKNOWN_BOOLEAN_VALUE})
    [rotation] = [p for p in POLICIES if p.name == "kms-key-rotation"]
    [violation] = evaluate([key], [rotation]).violations
    assert violation.enforcement == "advisory"
    assert "during preview" in violation.message
    assert not evaluate([key], [rotation]).mandatory_failed


def test_policies_see_read_only_mappings_as_in_the_engine(snap):
    seen = {}

    def look(args, report_violation):
        seen["props"], seen["tags"] = args.props, args.props["tags"]

    evaluate([snap(KEY, "data", {"tags": {"owner": "x"}})], [resource_policy("look", look)])
    assert isinstance(seen["tags"], Mapping) and not isinstance(seen["tags"], dict)
    assert dict(seen["tags"]) == {"owner": "x"}


def test_config_reaches_the_policy_and_can_change_enforcement(snap):
    seen = []

    def configured(args, report_violation):
        seen.append(dict(args.get_config()))
        report_violation("no", None)

    policy = resource_policy("configured", configured)
    config = {"configured": {"enforcementLevel": "advisory", "limit": 3}}
    report = evaluate([snap(KEY, "data", {})], [policy], config)
    assert seen == [{"limit": 3}]
    assert [v.enforcement for v in report.violations] == ["advisory"]
    assert not report.mandatory_failed


def test_disabled_policies_do_not_run(snap):
    report = evaluate([snap(KEY, "data", {})], [resource_policy("off", always_violates)],
                      {"off": {"enforcementLevel": "disabled"}})
    assert report.violations == [] and report.evaluated == []


def test_stack_resources_are_linked_by_urn(snap):
    vpc = snap(VPC, "main", {"cidrBlock": "10.0.0.0/16"})
    subnet = snap("aws:ec2/subnet:Subnet", "a", {"vpcId": "vpc-1"}, parent=vpc.urn,
                  dependencies=(vpc.urn, "urn:pulumi:test::retail::gone::x"),
                  property_dependencies={"vpcId": (vpc.urn,)})
    seen: dict[str, PolicyResource] = {}

    def look(args, report_violation):
        seen.update({r.name: r for r in args.resources})

    evaluate([vpc, subnet], [StackValidationPolicy(name="look", description="T", validate=look)])
    linked = seen["a"]
    assert linked.parent is seen["main"]
    assert linked.dependencies == [seen["main"]]
    assert linked.property_dependencies == {"vpcId": [seen["main"]]}
    assert seen["main"].props["cidrBlock"] == "10.0.0.0/16"
    assert linked.opts.parent == vpc.urn


def test_provider_and_options_are_passed(snap):
    provider = snap("pulumi:providers:aws", "eu", {"region": "eu-west-1"})
    key = snap(KEY, "data", {}, protect=True, provider=f"{provider.urn}::abc-123")
    seen = {}

    def look(args, report_violation):
        seen["args"] = args

    evaluate([provider, key], [resource_policy("look", look)])
    args = seen["args"]  # the last resource validated: the key
    assert args.urn == key.urn
    assert args.opts.protect is True
    assert args.opts.custom_timeouts.create_seconds == 0
    assert args.provider.urn == provider.urn
    assert args.provider.props["region"] == "eu-west-1"


def test_report_groups_and_summarises_per_policy():
    report = PolicyReport(
        violations=[
            PolicyViolation("b", "mandatory", "broken", "urn:x"),
            PolicyViolation("c", "advisory", "meh", None),
        ],
        evaluated=["a", "b", "c"],
    )
    assert list(report.by_policy()) == ["a", "b", "c"]
    assert report.by_policy()["a"] == []
    assert report.summary() == [
        "PASS a",
        "FAIL b: 1 violation(s)",
        "  - urn:x: broken",
        "WARN c: 1 violation(s)",
        "  - (stack): meh",
    ]
    assert report.mandatory_failed


# --- the whole pack -------------------------------------------------------------------------


@pytest.fixture
def stack(snap, tags):
    """A compliant network + key + prod log group, and a function to break one control."""

    def build(**broken: bool):
        prod = tags(environment="prod")
        vpc = snap(VPC, "main", {"tags": prod})
        deps = {"vpcId": (vpc.urn,)}
        policy = json.dumps({"Statement": [{"Effect": "Allow",
                                            "Principal": "*" if broken.get("public") else
                                            {"AWS": "arn:aws:iam::111122223333:root"},
                                            "Action": "kms:*", "Resource": "*"}]})
        resources = [
            vpc,
            snap("aws:ec2/subnet:Subnet", "private-a",
                 {"mapPublicIpOnLaunch": bool(broken.get("public_ip")), "tags": prod}),
            snap("aws:kms/key:Key", "data",
                 {"enableKeyRotation": not broken.get("rotation"), "policy": policy,
                  "deletionWindowInDays": 7 if broken.get("window") else 30,
                  "tags": {} if broken.get("tags") else prod}),
            snap("aws:kms/alias:Alias", "data", {"name": "alias/data"}),
            snap("aws:cloudwatch/logGroup:LogGroup", "flow",
                 {"retentionInDays": 30 if broken.get("retention") else 365, "tags": prod,
                  "deletionProtectionEnabled": True}),
            snap("pulumi:providers:aws", "default", {"region": "eu-west-1"}),
        ]
        if not broken.get("flow_log"):
            resources.append(snap("aws:ec2/flowLog:FlowLog", "main",
                                  {"vpcId": "vpc-1", "tags": prod}, property_dependencies=deps))
        if not broken.get("default_sg_missing"):
            rules = [{"protocol": "-1"}] if broken.get("default_sg_open") else []
            resources.append(snap("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
                                  "main-default", {"vpcId": "vpc-1", "ingress": rules,
                                                   "tags": prod},
                                  property_dependencies=deps))
        return resources

    return build


def test_compliant_stack_passes_every_policy(stack):
    report = evaluate(stack())
    assert report.violations == []
    assert report.evaluated == [p.name for p in POLICIES]
    assert all(line.startswith("PASS ") for line in report.summary())


@pytest.mark.parametrize(
    ("broken", "policy"),
    [
        ("rotation", "kms-key-rotation"),
        ("public", "kms-key-not-public"),
        ("window", "kms-key-deletion-window"),
        ("flow_log", "vpc-flow-logs"),
        ("default_sg_open", "default-security-group-closed"),
        ("default_sg_missing", "default-security-group-managed"),
        ("public_ip", "subnet-no-public-ip-on-launch"),
        ("retention", "log-retention-prod"),
        ("tags", "standard-tags"),
    ],
)
def test_breaking_one_control_fails_exactly_that_policy(stack, broken, policy):
    report = evaluate(stack(**{broken: True}))
    assert {v.policy for v in report.violations} == {policy}
    assert report.mandatory_failed
