"""Settings of the observability layer: ``retail:alarms``, who is told and when.

Thresholds are the point at which an on-call person should look, not the point of failure:
each default says why it is where it is. Every alarm is judged on ``datapointsToAlarm`` of
the last ``evaluationPeriods`` periods (M of N), so one noisy minute does not page anyone.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlparse

from pydantic import Field, field_validator, model_validator

from components.common.settings import Float, Int, SettingsModel

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")

#: SNS subscription protocols the ``notify`` endpoint may resolve to.
Protocol = Literal["email", "https"]


class AlarmsConfig(SettingsModel):
    """``retail:alarms``."""

    notify: str = Field(description="Who is told: an e-mail address, or an https:// chat webhook endpoint "
                        "(Slack/Teams/Chime incoming webhook, or a chat bridge).")
    period_seconds: Int = Field(default=60, description="Length of one evaluation period (60, 300, ...).")
    evaluation_periods: Int = Field(default=5, ge=1, le=100, description="N: the periods each alarm looks back on.")
    datapoints_to_alarm: Int = Field(default=3, ge=1, description="M: how many of those N periods must breach.")

    alb_error_percent: Float = Field(default=1.0, gt=0, le=100,
                                   description="ALB 5xx responses (load balancer + targets), % of requests.")
    alb_p99_latency_seconds: Float = Field(default=2.0, gt=0, description="ALB p99 TargetResponseTime, seconds.")
    cloudfront_error_percent: Float = Field(default=1.0, gt=0, le=100, description="CloudFront 5xxErrorRate, %.")
    waf_blocked_per_five_minutes: Int = Field(default=1000, ge=1,
                                      description="WAF BlockedRequests in 5 minutes: a spike means an attack "
                                      "or a rule blocking customers.")
    aurora_cpu_percent: Float = Field(default=80.0, gt=0, le=100, description="Aurora writer CPUUtilization, %.")
    aurora_acu_at_max_periods: Int = Field(default=15, ge=1, le=100,
                                           description="Periods ServerlessDatabaseCapacity must sit at the max "
                                           "ACU before alarming (all of them: a cluster pinned at its ceiling).")
    aurora_replica_lag_ms: Float = Field(default=1000.0, gt=0, description="AuroraReplicaLag (readers), ms.")
    aurora_global_lag_ms: Float = Field(default=5000.0, gt=0,
                                        description="AuroraGlobalDBReplicationLag (secondary region), ms.")
    dynamodb_throttled_requests: Int = Field(default=10, ge=1, description="DynamoDB ThrottledRequests per period.")
    dynamodb_replication_latency_ms: Float = Field(default=10000.0, gt=0,
                                                   description="Global table ReplicationLatency, ms.")
    cache_evictions: Int = Field(default=100, ge=1, description="ElastiCache Evictions per period.")
    cache_cpu_percent: Float = Field(default=75.0, gt=0, le=100,
                                     description="ElastiCache EngineCPUUtilization, % (Redis/Valkey is "
                                     "single-threaded: the engine's own core, not the host's).")
    node_cpu_percent: Float = Field(default=80.0, gt=0, le=100,
                                    description="Container Insights node_cpu_utilization (cluster average), %.")
    node_memory_percent: Float = Field(default=85.0, gt=0, le=100,
                                       description="Container Insights node_memory_utilization (cluster average), %.")
    kinesis_iterator_age_ms: Float = Field(default=60000.0, gt=0,
                                           description="GetRecords.IteratorAgeMilliseconds: how far consumers lag.")
    s3_replication_latency_seconds: Float = Field(default=900.0, gt=0,
                                                  description="S3 ReplicationLatency, seconds (900 = the 15 "
                                                  "minutes S3 RTC promises).")
    failed_backup_jobs: Int = Field(default=1, ge=1, description="AWS Backup NumberOfBackupJobsFailed per day.")

    @field_validator("notify")
    @classmethod
    def _notify_shape(cls, value: str) -> str:
        value = value.strip()
        if "://" in value:
            url = urlparse(value)
            if url.scheme != "https" or not url.hostname:
                raise ValueError(f"retail:alarms.notify {value!r} is a URL but not an https:// one with a host; "
                                 "SNS would deliver alarms in clear text over http. Use the webhook's https URL")
            return value
        if not _EMAIL.match(value):
            raise ValueError(f"retail:alarms.notify {value!r} is neither an e-mail address nor an https:// webhook "
                             "URL; give the on-call list's address (oncall@example.com) or the chat webhook")
        return value

    @field_validator("period_seconds")
    @classmethod
    def _whole_minutes(cls, value: int) -> int:
        # Standard-resolution metrics (every signal here) exist per minute: 10 or 30 seconds
        # would be high-resolution alarms on data that is not.
        if value < 60 or value % 60:
            raise ValueError(f"retail:alarms.periodSeconds {value} must be a whole number of minutes (60, 300, ...)")
        return value

    @model_validator(mode="after")
    def _m_of_n(self) -> AlarmsConfig:
        if self.datapoints_to_alarm > self.evaluation_periods:
            raise ValueError(f"retail:alarms.datapointsToAlarm ({self.datapoints_to_alarm}) exceeds evaluationPeriods "
                             f"({self.evaluation_periods}): an alarm could never fire; lower datapointsToAlarm or "
                             "raise evaluationPeriods")
        if self.period_seconds * self.evaluation_periods > 86400:
            raise ValueError("retail:alarms: periodSeconds x evaluationPeriods exceeds one day, the longest window "
                             "CloudWatch evaluates; shorten either")
        return self

    @property
    def protocol(self) -> Protocol:
        """The SNS protocol, derived from ``notify``: nobody has to say it twice."""
        return "https" if self.notify.startswith("https://") else "email"
