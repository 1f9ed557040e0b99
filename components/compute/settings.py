"""Settings of the compute layer: the cluster, Karpenter, team namespaces and the services
(stack-file sections ``retail:kubernetes`` and ``retail:services``)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.common.aws_catalog import check_instance_family, check_instance_type, instance_types, suggestion
from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS
from components.common.settings import Bool, Int, SettingsModel
from components.compute.manifests import DNS_LABEL

_INSTANCE_FAMILY = re.compile(r"^[a-z]+[0-9]+[a-z]*$")
_INSTANCE_TYPE = re.compile(r"^[a-z]+[0-9]+[a-z]*\.[a-z0-9]+$")
_IAM_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_CPU = re.compile(r"^(\d+m|\d+(\.\d+)?)$")
_MEMORY = re.compile(r"^\d+(Mi|Gi)$")
#: registry[:port]/path[:tag][@sha256:digest], with at least a tag or a digest.
_IMAGE = re.compile(r"^[\w.-]+(:\d+)?(/[\w.-]+)+(:[\w.-]+(@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})$")


class NodeGroupConfig(SettingsModel):
    instance_type: str = Field(description="Instance type of the small system node group (Graviton by default).")
    min_size: Int = Field(ge=1, le=10)
    desired_size: Int = Field(ge=1, le=10)
    max_size: Int = Field(ge=1, le=10)

    @field_validator("instance_type")
    @classmethod
    def _instance_type_shape(cls, value: str) -> str:
        if not _INSTANCE_TYPE.match(value):
            raise ValueError(f"{value!r} is not an EC2 instance type (expected e.g. 'm7g.large')"
                             f"{suggestion(value, instance_types())}")
        return check_instance_type(value)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupConfig:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(f"sizes must satisfy minSize <= desiredSize <= maxSize, got "
                             f"{self.min_size}, {self.desired_size}, {self.max_size}")
        return self


class KarpenterConfig(SettingsModel):
    version: str = Field(description="Karpenter Helm chart version.")
    instance_families: list[str] = Field(min_length=1, description="EC2 families Karpenter may launch, "
                                         "e.g. m7g, c7g, r7g.")
    capacity_types: list[Literal["spot", "on-demand"]] = Field(min_length=1, description="Spot, on-demand or both "
                                                               "(on-demand is the fallback when spot runs out).")
    cpu_limit: Int = Field(ge=1, description="Most vCPUs the node pool may hold: the ceiling of a surge, and of "
                           "the bill.")
    memory_limit_gi: Int = Field(ge=1, description="Most memory (GiB) the node pool may hold.")
    consolidate_after: str = Field(default="1m", pattern=r"^\d+(s|m|h)$",
                                   description="How long a node must be underused before it is consolidated.")
    disruption_budget: str = Field(default="10%", pattern=r"^(\d+%|\d+)$",
                                   description="Most nodes Karpenter may disrupt at once.")

    @field_validator("instance_families")
    @classmethod
    def _families(cls, families: list[str]) -> list[str]:
        bad = [f for f in families if not _INSTANCE_FAMILY.match(f)]
        if bad:
            raise ValueError(f"{', '.join(repr(b) for b in bad)} not an EC2 instance family (expected e.g. 'm7g', "
                             "without a size)")
        for family in families:
            check_instance_family(family)
        return families


class TeamConfig(SettingsModel):
    name: str = Field(description="Namespace name (a DNS label).")
    cpu_quota: str = Field(description="Total CPU requests the namespace may hold, e.g. '20'.")
    memory_quota: str = Field(description="Total memory requests the namespace may hold, e.g. '40Gi'.")
    max_pods: Int = Field(default=100, ge=1, le=5000)

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not DNS_LABEL.match(value) or value in ("default", "kube-system", "kube-public", "kube-node-lease"):
            raise ValueError(f"{value!r} is not a usable namespace name (a DNS label, not a system namespace)")
        return value

    @field_validator("cpu_quota")
    @classmethod
    def _cpu(cls, value: str) -> str:
        if not _CPU.match(value):
            raise ValueError(f"{value!r} is not a CPU quantity (e.g. '20' or '500m')")
        return value

    @field_validator("memory_quota")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value):
            raise ValueError(f"{value!r} is not a memory quantity (e.g. '40Gi' or '512Mi')")
        return value


class KubernetesConfig(SettingsModel):
    version: str = Field(description="EKS Kubernetes version.")
    public_endpoint: Bool = Field(description="Expose the API server endpoint publicly (restricted to "
                                  "publicAccessCidrs); the private endpoint is always on.")
    public_access_cidrs: list[str] = Field(default_factory=list, description="Who may reach the public endpoint.")
    admin_role_arns: list[str] = Field(default_factory=list, description="IAM roles given cluster-admin "
                                       "through EKS access entries.")
    system_nodes: NodeGroupConfig
    karpenter: KarpenterConfig
    teams: list[TeamConfig] = Field(description="Team namespaces, each restricted (PSS), default-deny, "
                                    "with a quota.")

    @field_validator("version")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUPPORTED_KUBERNETES_VERSIONS:
            raise ValueError(f"{value!r} is not a supported EKS version; use one of "
                             f"{', '.join(SUPPORTED_KUBERNETES_VERSIONS)} (EKS.2)")
        return value

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.IPv4Network(value, strict=True)
            except ValueError:
                raise ValueError(f"{value!r} is not a valid IPv4 network") from None
        return values

    @field_validator("admin_role_arns")
    @classmethod
    def _arns(cls, values: list[str]) -> list[str]:
        bad = [v for v in values if not _IAM_ROLE_ARN.match(v)]
        if bad:
            raise ValueError(f"{', '.join(repr(b) for b in bad)} not an IAM role ARN "
                             "(arn:aws:iam::<account>:role/<name>)")
        return values

    @model_validator(mode="after")
    def _public_needs_cidrs(self) -> KubernetesConfig:
        if self.public_endpoint and not self.public_access_cidrs:
            raise ValueError("publicEndpoint is on but publicAccessCidrs is empty: name who may reach it")
        if not self.public_endpoint and self.public_access_cidrs:
            raise ValueError("publicAccessCidrs is set but publicEndpoint is off; remove one of them")
        names = [team.name for team in self.teams]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"team names must be unique: {', '.join(duplicates)}")
        return self


#: How a service may use a table: read items, read and write them, or read its change stream.
TableAccess = Literal["read", "readWrite", "stream"]
#: How a service may use a bucket (by purpose).
BucketAccess = Literal["read", "write", "readWrite"]


class SqlUseConfig(SettingsModel):
    user: str = Field(description="The database user the service signs in as with an IAM token (created by the "
                      "application: CREATE USER ...; GRANT rds_iam TO ...); never the master user.")


StreamAccess = Literal["write", "read"]


class ServiceUsesConfig(SettingsModel):
    """The data a service uses, and how: its workload role gets exactly these grants (with the
    keys they need, only through the data's service) and its pods reach exactly these ports."""

    tables: dict[str, TableAccess] = Field(default_factory=dict, description="Table name -> read, readWrite "
                                           "or stream (its change stream; the table must have one).")
    buckets: dict[str, BucketAccess] = Field(default_factory=dict, description="Bucket purpose (assets, dataLake, "
                                             "logs, backups) -> read, write or readWrite.")
    sql: SqlUseConfig | None = Field(default=None, description="Sign in to the SQL database as this user.")
    cache: Bool = Field(default=False, description="Connect to the cache (IAM-authenticated user).")
    streams: dict[str, StreamAccess] = Field(default_factory=dict, description="Kinesis stream name -> write "
                                             "(put records) or read (consume).")


class ServiceConfig(SettingsModel):
    name: str = Field(description="Service name (a DNS label); also its Deployment, Service and identity.")
    team: str = Field(description="The team namespace it runs in.")
    image: str = Field(description="Container image, pinned by tag or digest (not 'latest').")
    port: Int = Field(default=8080, ge=1024, le=65535, description="Container port (unprivileged).")
    cpu: str = Field(description="CPU request (and limit), e.g. '500m'.")
    memory: str = Field(description="Memory request (and limit), e.g. '512Mi'.")
    min_replicas: Int = Field(ge=1, le=500)
    max_replicas: Int = Field(ge=1, le=1000)
    target_cpu: Int = Field(default=60, ge=10, le=95, description="Average CPU (%) the HPA holds.")
    path: str | None = Field(default=None, description="ALB path prefix that routes to it; none keeps it internal.")
    callers: list[str] = Field(default_factory=list, description="Services allowed to call it (NetworkPolicy).")
    env: dict[str, str] = Field(default_factory=dict, description="Plain environment variables.")
    secrets: list[str] = Field(default_factory=list, description="Kubernetes Secret names mounted as files.")
    requests_per_second_target: Int | None = Field(
        default=None, ge=1, description="Optional custom metric target (requests per second per pod); the peak "
        "planner also reads it as what one replica serves (unset: 50 per requested vCPU).")
    baseline_rps: Int | None = Field(
        default=None, ge=1, description="Normal requests per second, which a peak's multiplier multiplies (unset: "
        "minReplicas x what one replica serves, i.e. the floor is sized for normal traffic).")
    db_pool_size: Int = Field(default=10, ge=1, le=1000, description="Database connections each pod holds open "
                              "(its pool); only with uses.sql: the peak's connection budget counts them.")
    uses: ServiceUsesConfig = Field(default_factory=ServiceUsesConfig, description="The data the service uses; "
                                    "undeclared means no access.")

    @field_validator("name")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not DNS_LABEL.match(value):
            raise ValueError(f"{value!r} is not a DNS label (lower-case letters, digits and '-')")
        return value

    @field_validator("image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        if value.endswith(":latest") or not _IMAGE.match(value):
            raise ValueError(f"{value!r} must be a registry image pinned by tag or digest, not 'latest' "
                             "(e.g. '123456789012.dkr.ecr.eu-west-1.amazonaws.com/storefront:1.4.2')")
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: str) -> str:
        return TeamConfig._cpu(value)

    @field_validator("memory")
    @classmethod
    def _memory(cls, value: str) -> str:
        return TeamConfig._memory(value)

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^/[\w./-]*$", value):
            raise ValueError(f"{value!r} is not a URL path prefix (e.g. '/cart')")
        return value

    @model_validator(mode="after")
    def _replicas(self) -> ServiceConfig:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"minReplicas ({self.min_replicas}) is greater than maxReplicas ({self.max_replicas})")
        return self

