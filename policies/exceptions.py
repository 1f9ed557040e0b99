"""Reasoned exceptions: reading the ``control-exceptions`` tag against the registry.

A component that must deviate from a control tags the resource with
``control-exceptions`` = the control ids it deviates from (``"S3.17"``), and the policy of
that control reads the tag. A tag alone proves nothing: an exception counts only if its
control id is in ``ACCEPTED_EXCEPTIONS``, which lives in ``components/common/compliance.py`` (the
components tag from it, the pack checks against it), is reviewed like code and carries the
reason in real words (cdk-nag's rule: no suppression without a reason).

An exception loosens a control, never removes it: the policy that honours it still checks
the weaker setting it allows (S3.17 accepts SSE-S3 instead of KMS, never no encryption).
A tag naming a control that is not accepted is itself a violation
(``control-exceptions-accepted``), so a typo or a self-granted waiver fails the preview.

Several ids go in one tag value separated by spaces, ``/`` or ``+`` (``"S3.17 ELB.5"``);
commas are read too, but AWS's common tag-value pattern (letters, digits, spaces and
``_ . : / = + - @``) rejects them, so do not write them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

# One registry for the components that tag and the pack that checks: imported, never
# redefined here, so a reason cannot differ between the two.
from components.common.compliance import ACCEPTED_EXCEPTIONS, CONTROL_EXCEPTIONS_TAG
from policies._helpers import resource_policy, tag_map

__all__ = [
    "ACCEPTED_EXCEPTIONS",
    "CONTROL_EXCEPTIONS_TAG",
    "POLICIES",
    "declared_exceptions",
    "has_accepted_exception",
]

_SEPARATORS = re.compile(r"[\s,/+]+")


def declared_exceptions(tags: Any) -> tuple[str, ...]:
    """The control ids a resource's ``control-exceptions`` tag lists, in order, without
    duplicates or blanks; ``()`` when the tag is absent."""
    value = tag_map(tags).get(CONTROL_EXCEPTIONS_TAG)
    if not isinstance(value, str):
        return ()
    return tuple(dict.fromkeys(part for part in _SEPARATORS.split(value) if part))


def has_accepted_exception(props: Mapping[str, Any], control_id: str) -> bool:
    """Whether the resource declares an exception to ``control_id`` and that exception is
    accepted. Only the policy of ``control_id`` should ask."""
    return control_id in ACCEPTED_EXCEPTIONS and control_id in declared_exceptions(
        props.get("tags")
    )


def _control_exceptions_accepted(
    args: ResourceValidationArgs, report_violation: ReportViolation
) -> None:
    tags = tag_map(args.props.get("tags"))
    if CONTROL_EXCEPTIONS_TAG not in tags:
        return
    declared = declared_exceptions(tags)
    accepted = ", ".join(sorted(ACCEPTED_EXCEPTIONS)) or "none"
    if not declared:
        report_violation(
            f"tag {CONTROL_EXCEPTIONS_TAG} is empty; remove it, or list the accepted "
            f"exceptions the resource needs (accepted: {accepted}).",
            None,
        )
        return
    unknown = [control for control in declared if control not in ACCEPTED_EXCEPTIONS]
    if unknown:
        report_violation(
            f"tag {CONTROL_EXCEPTIONS_TAG} claims exceptions to {', '.join(unknown)}, which "
            f"are not accepted exceptions (accepted: {accepted}); meet the control instead and "
            "remove it from the tag, or, after review, add it with its reason to "
            "ACCEPTED_EXCEPTIONS in components/common/compliance.py.",
            None,
        )


POLICIES = [
    resource_policy(
        "control-exceptions-accepted",
        "TAG.2: a control-exceptions tag names only accepted, reasoned exceptions",
        None,  # every type: an exception tag on any resource must be one the pack accepts
        _control_exceptions_accepted,
    ),
]
