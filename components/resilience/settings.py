"""Settings of the resilience layer: disaster recovery (stack-file section ``retail:dr``)."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from components.common.aws_catalog import check_region
from components.common.settings import Bool, SettingsModel
from components.foundation.settings import NetworkConfig
from components.resilience.objectives import (
    REPLICATING,
    Strategy,
    Tier,
    cheapest_meeting,
    format_duration,
    meets,
    parse_duration,
    tier_rpo,
    tier_rto,
)


class Objectives(SettingsModel):
    """Declared recovery objectives of one tier, as durations ('1s', '15m', '4h')."""

    rpo: str | None = Field(default=None, description="Most writes (as time) the tier may lose.")
    rto: str | None = Field(default=None, description="Longest the tier may be down once recovery starts.")

    @field_validator("rpo", "rto")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    def seconds(self, objective: str) -> int | None:
        value = getattr(self, objective)
        return None if value is None else parse_duration(value)


class Targets(SettingsModel):
    databases: Objectives = Field(default_factory=Objectives,
                                  description="Aurora and DynamoDB: the stores of record.")
    objects: Objectives = Field(default_factory=Objectives, description="The S3 buckets.")
    service: Objectives = Field(default_factory=Objectives,
                                description="The shop answering customers (its RPO is the databases').")

    @field_validator("service")
    @classmethod
    def _service_has_no_rpo(cls, value: Objectives) -> Objectives:
        if value.rpo is not None:
            raise ValueError("the service tier holds no data, so it has no RPO of its own; declare "
                             "databases.rpo and objects.rpo instead")
        return value


class DrConfig(SettingsModel):
    strategy: Strategy = Field(description="What the DR region holds and how traffic fails over: none, "
                               "backup-restore, pilot-light, warm-standby or active-active.")
    region: str | None = Field(default=None, description="The DR region; required unless strategy is none.")
    targets: Targets = Field(default_factory=Targets, description="Declared RPO/RTO per tier, checked against "
                             "what the strategy deploys.")
    cidr: str | None = Field(
        default=None, description="The DR region's VPC CIDR (its network is built like the primary's); "
        "required by the strategies that build a network there, and apart from the primary's so the two can be "
        "peered.")
    fault_injection: Bool = Field(
        default=False, description="AWS FIS experiment templates to rehearse the promises: an AZ power "
        "interruption, and with a replicating strategy a region isolation (templates cost nothing until run).")
    replication_time_control: Bool = Field(
        default=True, description="S3 Replication Time Control (15-minute SLA, extra cost) on replicated buckets; "
        "off leaves the objects' RPO unbounded.")

    @field_validator("region")
    @classmethod
    def _real_region(cls, value: str | None) -> str | None:
        return value if value is None else check_region(value)

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str | None) -> str | None:
        # The same rules as the primary's network (RFC 1918, /16 to /22, no host bits).
        return value if value is None else NetworkConfig.model_validate(
            {"cidr": value, "azCount": 2, "natStrategy": "single", "interfaceEndpoints": False,
             "flowLogRetentionDays": 30}).cidr

    @model_validator(mode="after")
    def _consistent(self) -> DrConfig:
        if self.strategy is Strategy.none:
            if self.region is not None:
                raise ValueError("strategy none deploys nothing in a DR region: remove region or choose a strategy")
            return self
        if self.region is None:
            raise ValueError(f"strategy {self.strategy.value} needs a DR region: set region (e.g. 'eu-central-1')")
        if self.strategy in REPLICATING and self.cidr is None:
            raise ValueError(f"strategy {self.strategy.value} builds a network in {self.region}: set cidr, a range "
                             "apart from retail:network.cidr (e.g. '10.31.0.0/16')")
        if self.strategy not in REPLICATING and self.cidr is not None:
            raise ValueError(f"strategy {self.strategy.value} builds no network in the DR region: remove cidr")
        return self

    def unmet(self) -> list[tuple[str, str]]:
        """Declared targets the strategy cannot meet, as (key path under ``dr``, message)."""
        problems: list[tuple[str, str]] = []
        for tier in Tier:
            declared = getattr(self.targets, tier.value)
            for objective in ("rpo", "rto"):
                target = declared.seconds(objective)
                if target is None:
                    continue
                achieved = (tier_rpo(self.strategy, tier, replication_time_control=self.replication_time_control)
                            if objective == "rpo" else tier_rto(self.strategy, tier))
                if meets(achieved, target):
                    continue
                better = cheapest_meeting(tier, objective, target)
                fix = (f"choose strategy {better.value}" if better is not None
                       else "no strategy meets it: relax the target")
                if (tier is Tier.objects and objective == "rpo" and not self.replication_time_control
                        and better is not None and better is not Strategy.backup_restore):
                    fix = "turn replicationTimeControl on (S3 states no replication bound without it)"
                problems.append((
                    f"targets.{tier.value}.{objective}",
                    f"{objective.upper()} {getattr(declared, objective)} for {tier.value} cannot be met by "
                    f"retail:dr.strategy {self.strategy.value} (it gives {format_duration(achieved)}); {fix}"))
        return problems
