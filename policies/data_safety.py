"""Nothing lost: every stateful resource of a prod stack is Pulumi-protected and has AWS-side
deletion protection where AWS offers it.

The list of stateful types and their deletion-protection inputs is the one the components
use (components/common/compliance.py), so a new kind of data store is covered by both at once.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from components.common.compliance import STATEFUL_TYPES
from policies._helpers import is_prod, resource_policy


def _protected_in_prod(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # Not applicable outside prod: dev and staging must stay destroyable.
    if not is_prod(args.props):
        args.not_applicable("only prod resources must be protected")
    if not args.opts.protect:
        report_violation(
            "prod resource holds data but is not protected, so `pulumi destroy` or a replacing "
            "diff would delete it; pass opts=pulumi.ResourceOptions(protect=True).",
            None,
        )
    flag = STATEFUL_TYPES[args.resource_type]
    if flag is not None and args.props.get(flag) is not True:
        report_violation(
            f"prod resource has AWS-side deletion protection off; set {flag} to true "
            "(the snake_case argument of the same name).",
            None,
        )


POLICIES = [
    resource_policy(
        "stateful-resources-protected-prod",
        "DATA.1: prod data stores are Pulumi-protected and deletion-protected where AWS allows",
        STATEFUL_TYPES,
        _protected_in_prod,
    ),
]
