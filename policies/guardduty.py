"""GuardDuty: the detector is on (GuardDuty.1) and runs the protection plans the platform's
resources need: EKS audit logs (GuardDuty.5), EKS runtime monitoring with the agent managed by
GuardDuty (GuardDuty.7), malware protection for EC2/EBS (GuardDuty.8), RDS login events
(GuardDuty.9) and S3 data events (GuardDuty.10).

Control ids: AWS Security Hub FSBP GuardDuty controls, as listed in the Security Hub user guide
("Security Hub controls for GuardDuty"). Ids .5/.7/.8/.9/.10 were checked against memory of that
page, not verified online during the build; a mismatch changes only the messages. PCI DSS v4.0.1
10.7/11.5.1 (intrusion detection), 5.2 (malware).
"""

from __future__ import annotations

from pulumi_policy import PolicyResource, ReportViolation, ResourceValidationArgs, StackValidationArgs

from policies._helpers import (
    check_each,
    companions_by_target,
    known,
    mapping,
    resource_policy,
    sequence,
    stack_policy,
)

DETECTOR = "aws:guardduty/detector:Detector"
FEATURE = "aws:guardduty/detectorFeature:DetectorFeature"

#: Feature name -> (FSBP control, what it protects).
REQUIRED_FEATURES: dict[str, tuple[str, str]] = {
    "EKS_AUDIT_LOGS": ("GuardDuty.5", "EKS audit log monitoring"),
    "EKS_RUNTIME_MONITORING": ("GuardDuty.7", "EKS runtime monitoring"),
    "EBS_MALWARE_PROTECTION": ("GuardDuty.8", "malware protection for EC2 (EBS volumes)"),
    "RDS_LOGIN_EVENTS": ("GuardDuty.9", "RDS protection (login events)"),
    "S3_DATA_EVENTS": ("GuardDuty.10", "S3 protection (data events)"),
}
#: The additional configuration that lets GuardDuty install and update its EKS runtime agent.
AGENT_MANAGEMENT = "EKS_ADDON_MANAGEMENT"
ENABLED = "ENABLED"


def _enabled(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    # The provider's default is enabled: only an explicit false is a violation.
    if known(args.props, "enable") is False:
        report_violation("GuardDuty.1: the detector is disabled; set enable=True.", None)


def _features(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    detectors = [r for r in args.resources if r.resource_type == DETECTOR]
    if not detectors:
        args.not_applicable("the stack has no GuardDuty detector (accountLevel existing leaves it to the landing zone)")
    features = companions_by_target(args.resources, (FEATURE,), "detectorId")

    def check(detector: PolicyResource) -> None:
        by_name = {known(f.props, "name"): f for f in features.get(detector.urn, [])}
        for name, (control, what) in REQUIRED_FEATURES.items():
            feature = by_name.get(name)
            if feature is None or known(feature.props, "status") != ENABLED:
                report_violation(f"{control}: the detector does not run {what}; add an aws.guardduty.DetectorFeature "
                                 f"name={name} status=ENABLED.", detector.urn)
                continue
            if name == "EKS_RUNTIME_MONITORING":
                extra = {known(mapping(c), "name"): known(mapping(c), "status")
                         for c in sequence(known(feature.props, "additionalConfigurations"))}
                if extra.get(AGENT_MANAGEMENT) != ENABLED:
                    report_violation(f"{control}: EKS runtime monitoring is on but GuardDuty does not manage its "
                                     f"agent, so no cluster runs it; add additional_configurations {AGENT_MANAGEMENT}="
                                     f"{ENABLED}.", feature.urn)

    check_each(detectors, check)


POLICIES = [
    resource_policy("guardduty-detector-enabled", "GuardDuty.1: the GuardDuty detector is enabled",
                    (DETECTOR,), _enabled),
    stack_policy("guardduty-protection-features",
                 "GuardDuty.5/.7/.8/.9/.10: every detector runs EKS audit logs, EKS runtime monitoring (agent managed "
                 "by GuardDuty), EBS malware protection, RDS login events and S3 data events",
                 _features),
]
