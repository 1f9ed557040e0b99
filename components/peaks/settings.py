"""The peak calendar (stack-file key ``retail:peakEvents``): known traffic peaks, each warmed
before it starts and released after it ends.

What the schema checks alone: the shape of each event (a DNS-label name, UTC instants with
``Z``, end after start, a lead time, a multiplier or per-service rates, not both missing) and
what the events say together (unique names, no contradicting overlap). What needs the rest
of the stack (services named, bounds, the lead the slowest warmed layer needs) is checked by
``config/peaks.py`` with the planner, beside the other cross-key rules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import Field, field_validator, model_validator

from components.common.aws_limits import MAX_RATE_LIMIT, MIN_RATE_LIMIT
from components.common.settings import Float, Int, SettingsModel
from components.compute.manifests import DNS_LABEL
from components.peaks.plan import PeakEvent
from components.resilience.objectives import parse_duration

#: What a start or end looks like: a UTC instant, minutes or seconds, always with ``Z`` (an
#: offset or a local time would make "when is the shop warm" depend on who reads the file).
INSTANT_FORMATS = ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M:%SZ")


#: Held after the end: traffic tails off (late orders, reminder e-mails), and the HPA's 300s
#: scale-down stabilization would only release it slowly anyway.
COOL_DOWN = timedelta(hours=1)


def parse_instant(text: str) -> datetime:
    """``'2026-11-27T00:00Z'`` -> an aware UTC datetime; ValueError naming the expected form."""
    for form in INSTANT_FORMATS:
        try:
            return datetime.strptime(text, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a UTC instant; write e.g. '2026-11-27T00:00Z' (ISO 8601, UTC, ending in Z)")


def format_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ" if moment.second == 0 else "%Y-%m-%dT%H:%M:%SZ")


class PeakEventConfig(SettingsModel):
    """One known peak: when, how big, and how early every layer must be warm."""

    name: str = Field(description="A DNS label (e.g. 'black-friday'): it names the scheduled actions.")
    start: str = Field(description="When the peak starts, UTC, e.g. '2026-11-27T00:00Z'.")
    end: str = Field(description="When it ends, UTC; after start.")
    lead_time: str = Field(description="How long before start every layer must be warm ('90m', '4h'); at least "
                           "what the slowest warmed layer needs (the surge model's warm-up times).")
    multiplier: Float | None = Field(default=None, gt=1, le=1000,
                                     description="Peak traffic as a multiple of each service's baselineRps.")
    services: dict[str, Int] = Field(default_factory=dict,
                                     description="Service name -> expected peak requests per second; these win "
                                     "over the multiplier for the services named.")
    waf_rate_limit: Int | None = Field(default=None, description="Per-IP WAF limit (requests per 5 minutes) "
                                       "during the event, instead of retail:edge.rateLimit.")

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not DNS_LABEL.match(value) or len(value) > 40:
            raise ValueError(f"{value!r} is not a usable event name: a DNS label of at most 40 characters (lower-case "
                             "letters, digits and '-'), e.g. 'black-friday'; it goes into scheduled actions' names")
        return value

    @field_validator("start", "end")
    @classmethod
    def _instant(cls, value: str) -> str:
        parse_instant(value)
        return value

    @field_validator("lead_time")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value

    @field_validator("services")
    @classmethod
    def _rates(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(name for name, rps in value.items() if rps < 1)
        if bad:
            raise ValueError(f"peak requests per second must be at least 1 (got {', '.join(bad)}); leave a service "
                             "out to keep it at its baseline")
        return value

    @field_validator("waf_rate_limit")
    @classmethod
    def _waf(cls, value: int | None) -> int | None:
        if value is not None and not MIN_RATE_LIMIT <= value <= MAX_RATE_LIMIT:
            raise ValueError(f"{value} is outside AWS WAF's rate-based limits ({MIN_RATE_LIMIT} to {MAX_RATE_LIMIT} "
                             "requests per 5 minutes)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> PeakEventConfig:
        if parse_instant(self.end) <= parse_instant(self.start):
            raise ValueError(f"end ({self.end}) must come after start ({self.start})")
        if self.multiplier is None and not self.services:
            raise ValueError("say how big the peak is: multiplier (e.g. 10, times each service's baselineRps) or "
                             "services ({name: peak requests per second})")
        return self

    def event(self) -> PeakEvent:
        """The plain, typed event the planner and everything downstream read."""
        return PeakEvent(name=self.name, start=parse_instant(self.start), end=parse_instant(self.end),
                         lead=timedelta(seconds=parse_duration(self.lead_time)), multiplier=self.multiplier,
                         service_rps=dict(self.services), waf_rate_limit=self.waf_rate_limit)


def calendar_problems(events: list[PeakEventConfig]) -> list[tuple[int, str, str]]:
    """(index, key, message) for names used twice and overlaps that contradict.

    Two events *contradict* when their windows (warm-up to release: the end plus
    :data:`COOL_DOWN`) overlap and they ask for
    different per-IP WAF limits: WAF holds one limit at a time, so one of the two would be
    silently wrong during the overlap. Overlapping events that agree (or set no WAF limit) are
    allowed: each layer then holds the larger of the two plans while both are active.
    """
    problems: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    for index, config in enumerate(events):
        if config.name in seen:
            problems.append((index, "name", f"event name {config.name!r} is already used by "
                             f"peakEvents[{seen[config.name]}]; names must be unique (they name the scheduled "
                             "actions)"))
        seen.setdefault(config.name, index)
    typed = [config.event() for config in events]
    for later, event in enumerate(typed):
        for other in typed[:later]:
            overlap = (event.start - event.lead < other.end + COOL_DOWN
                       and other.start - other.lead < event.end + COOL_DOWN)
            if overlap and event.waf_rate_limit != other.waf_rate_limit:
                mine, theirs = event.waf_rate_limit or "the default", other.waf_rate_limit or "the default"
                problems.append((later, "wafRateLimit", f"{event.name!r} overlaps {other.name!r} (warm-up to release) "
                                 f"but asks for a WAF rate limit of {mine} where {other.name!r} asks for {theirs}: "
                                 "WAF holds one limit at a time; give both the same wafRateLimit or move one event"))
    return problems
