"""AWS Config: a recorder that records every supported type with a role (Config.1), and that
actually runs: a delivery channel in its region and a recorder status that turns it on.

Controls: AWS Security Hub FSBP Config.1; PCI DSS v4.0.1 10.2.1 (changes to system components are
logged), 11.5.2 (change detection). Security Hub's current Config.1 prefers the service-linked
role; any role passes here, the component's own role carries the AWS managed AWS_ConfigRole.
"""

from __future__ import annotations

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from policies._helpers import check_each, is_set, known, mapping, resource_policy, sequence, stack_policy

RECORDER = "aws:cfg/recorder:Recorder"
DELIVERY_CHANNEL = "aws:cfg/deliveryChannel:DeliveryChannel"
RECORDER_STATUS = "aws:cfg/recorderStatus:RecorderStatus"


def _records_everything(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    if not is_set(props, "roleArn"):
        report_violation("Config.1: the recorder has no role; give it a role AWS Config can assume (with the AWS "
                         "managed policy AWS_ConfigRole) or the service-linked role.", None)
    group = mapping(known(props, "recordingGroup"))
    # No recording group is the provider's default: every supported type.
    if group.get("allSupported") is False or sequence(group.get("resourceTypes")):
        report_violation("Config.1: the recorder records a chosen list of resource types, not all supported "
                         "ones; set recording_group.all_supported=True and drop resource_types.", None)
    if sequence(mapping(group.get("exclusionByResourceTypes")).get("resourceTypes")):
        report_violation("Config.1: the recorder excludes resource types; record every supported type.", None)


def _region(resource: PolicyResource) -> object:
    # None stands for the provider's region: two resources without one share it.
    return known(resource.props, "region")


def _recorder_runs(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    recorders = [r for r in args.resources if r.resource_type == RECORDER]
    if not recorders:
        args.not_applicable("the stack has no AWS Config recorder (accountLevel existing leaves it to the "
                            "landing zone)")
    channels = [r for r in args.resources if r.resource_type == DELIVERY_CHANNEL]
    statuses = [r for r in args.resources if r.resource_type == RECORDER_STATUS]

    def check(recorder: PolicyResource) -> None:
        if not any(_region(channel) == _region(recorder) for channel in channels):
            report_violation("the AWS Config recorder has no delivery channel in its region, so nothing it records "
                             "is delivered (and Config refuses to start it); add an aws.cfg.DeliveryChannel to the "
                             "audit bucket.", recorder.urn)
        mine = [s for s in statuses if recorder.urn in {d.urn for d in s.property_dependencies.get("name", ())}
                or (known(s.props, "name") is not None and known(s.props, "name") == known(recorder.props, "name"))]
        if not mine:
            report_violation("the AWS Config recorder has no aws.cfg.RecorderStatus, so it never starts recording; "
                             "add one with is_enabled=True named after the recorder.", recorder.urn)
        for status in mine:
            if known(status.props, "isEnabled") is not True:
                report_violation("the AWS Config recorder's status leaves it stopped; set is_enabled=True.",
                                 status.urn)

    check_each(recorders, check)


POLICIES = [
    resource_policy("config-recorder-all-supported",
                    "Config.1: the AWS Config recorder records every supported resource type and has a role",
                    (RECORDER,), _records_everything),
    stack_policy("config-recorder-delivers-and-runs",
                 "Config.1: every AWS Config recorder has a delivery channel in its region and an enabled status",
                 _recorder_runs),
]
