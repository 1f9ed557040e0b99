"""The control table (policies/controls.py): every registered policy is mapped, and the PCI DSS
table names only registered or planned policies."""

from __future__ import annotations

import re

import pytest
from pulumi_policy import StackValidationPolicy

from policies._helpers import TypedResourcePolicy, resource_policy, stack_policy
from policies.controls import (
    CONTROLS,
    PCI_REQUIREMENTS,
    PLANNED,
    control_ids,
    defined_policies,
    expected_control,
    pci_requirements_of,
)
from policies.offline import ResourceSnapshot, evaluate
from policies.registry import POLICIES

REGISTERED = {policy.name: policy for policy in POLICIES}


DEFINED = defined_policies()
TYPE_TOKEN = re.compile(r"^[a-z0-9-]+:[\w./-]+:\w+$")


def test_every_registered_policy_has_an_entry():
    missing = [name for name in REGISTERED if name not in CONTROLS]
    assert not missing, f"add these policies to CONTROLS in policies/controls.py: {missing}"


def test_the_table_maps_only_policies_the_pack_defines():
    stale = [name for name in CONTROLS if name not in DEFINED]
    assert not stale, f"CONTROLS names policies no module of the pack defines: {stale}"


def test_every_defined_policy_is_mapped_before_it_is_registered():
    assert [name for name in DEFINED if name not in CONTROLS] == []


@pytest.mark.parametrize("name", list(DEFINED))
def test_every_policy_knows_the_types_it_covers(name):
    policy, entry = DEFINED[name], CONTROLS[name]
    if isinstance(policy, StackValidationPolicy):
        assert entry.covers, f"{name} is a stack policy: give its CONTROLS entry covers=(<type tokens>)"
        assert all(TYPE_TOKEN.match(t) for t in entry.covers), entry.covers
    else:
        # A resource policy's types are its filter's: written once, in the policy.
        assert isinstance(policy, TypedResourcePolicy), f"{name}: declare it with resource_policy()"
        assert entry.covers is None, f"{name}: its types come from resource_policy(); drop covers"


@pytest.mark.parametrize("name", list(DEFINED))
def test_every_policy_description_starts_with_its_control_ids(name):
    assert control_ids(DEFINED[name].description), (
        f"{name}: start the description with its control id, e.g. 'Kinesis.1: ...'")


@pytest.mark.parametrize(("description", "ids"), [
    ("Kinesis.1: streams are encrypted", ("Kinesis.1",)),
    ("EC2.8 / EC2.170: IMDSv2", ("EC2.8", "EC2.170")),
    ("PCI DSS 10.5.1: prod log groups keep 365 days", ("PCI DSS 10.5.1",)),
    ("CIS EKS 4.3.2: default deny", ("CIS EKS 4.3.2",)),
    ("no id here", ()),
])
def test_control_ids_are_the_description_prefix(description, ids):
    assert control_ids(description) == ids


def test_the_pci_table_names_only_defined_or_planned_policies():
    unknown = sorted({name for req in PCI_REQUIREMENTS.values() for name in req.policies
                      if name not in DEFINED and name not in PLANNED})
    assert not unknown, f"PCI_REQUIREMENTS names policies that are neither defined nor PLANNED: {unknown}"


def test_a_planned_policy_leaves_planned_once_written():
    written = sorted(set(PLANNED) & set(DEFINED))
    assert not written, f"written now: remove {written} from PLANNED and map them in CONTROLS (policies/controls.py)"


def test_every_planned_policy_supports_a_requirement():
    for name in PLANNED:
        assert pci_requirements_of(name), f"{name} is planned but no PCI requirement lists it"


@pytest.mark.parametrize("prefix", ["1.", "3.", "4.", "6.4", "7.", "8.", "10.", "11."])
def test_the_required_pci_requirements_are_mapped(prefix):
    assert any(req.startswith(prefix) for req in PCI_REQUIREMENTS), f"no PCI DSS requirement {prefix}x mapped"


@pytest.mark.parametrize("prefix", ["1.", "3.", "4.", "6.4", "7.", "8.", "10."])
def test_requirements_the_pack_can_check_have_a_registered_policy(prefix):
    assert any(name in REGISTERED for req, requirement in PCI_REQUIREMENTS.items() if req.startswith(prefix)
               for name in requirement.policies)


def test_intrusion_detection_is_covered_by_the_registered_guardduty_checks():
    # Requirement 11.5.1 is met by GuardDuty: the table names its registered checks, nothing else.
    assert set(PCI_REQUIREMENTS["11.5.1"].policies) == {"guardduty-detector-enabled", "guardduty-protection-features"}
    assert set(PCI_REQUIREMENTS["11.5.1"].policies) <= set(REGISTERED)


def test_pci_requirements_of_inverts_the_table():
    assert pci_requirements_of("kms-key-rotation") == ("3.7.4",)
    assert pci_requirements_of("log-retention-prod") == ("10.5.1",)
    assert pci_requirements_of("dynamodb-on-demand-capacity") == ()


def test_resource_policy_records_its_types():
    policy = resource_policy("p", "X.1: x", ["aws:kms/key:Key"], lambda args, report: None)
    assert policy.resource_types == frozenset({"aws:kms/key:Key"})
    assert resource_policy("q", "X.2: y", None, lambda args, report: None).resource_types is None


def test_the_offline_evaluator_keeps_not_applicable_reasons():
    def skip_resource(args, report_violation):
        args.not_applicable("not tagged environment=prod")

    def skip_stack(args, report_violation):
        args.not_applicable("the stack has no VPCs")

    key = ResourceSnapshot(urn="urn:pulumi:t::retail::aws:kms/key:Key::k", type="aws:kms/key:Key", name="k",
                           props={})
    other = ResourceSnapshot(urn="urn:pulumi:t::retail::aws:s3/bucket:Bucket::b", type="aws:s3/bucket:Bucket",
                             name="b", props={})
    report = evaluate([key, other], [resource_policy("r", "X.1: r", ["aws:kms/key:Key"], skip_resource),
                                     stack_policy("s", "X.2: s", skip_stack)])
    assert report.violations == []
    assert [(n.policy, n.reason, n.urn) for n in report.not_applicable] == [
        ("r", "not tagged environment=prod", key.urn),  # only the key: the filter skips the bucket
        ("s", "the stack has no VPCs", None),
    ]


def test_the_pack_s_modules_are_all_found():
    # registry.py lists a subset of what the modules define, never a policy they do not.
    assert set(REGISTERED) <= set(DEFINED)
    assert "redshift-serverless-encrypted" in DEFINED and "kms-key-rotation" in DEFINED


def test_the_expected_control_of_a_policy_not_in_the_pack():
    assert expected_control("guardduty-detector-enabled") == "GuardDuty.1"
    assert expected_control("not-a-policy") == "unknown"
    assert expected_control("redshift-serverless-encrypted") == "RedshiftServerless.4"
    assert expected_control("launch-template-imdsv2") == "EC2.8 / EC2.170"
