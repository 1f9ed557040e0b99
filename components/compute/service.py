"""One retail microservice on EKS, from its ``retail:services`` entry.

A ``RetailService`` is the service template of the design: an IAM role for the workload bound
to its ServiceAccount with EKS Pod Identity (grants come later, from the data components'
``grant_*`` methods, on ``self.role``); a Deployment that passes Pod Security "restricted";
a ClusterIP Service; an HPA tuned for surges; a PodDisruptionBudget; NetworkPolicies that admit
only the declared callers (and the ALB when exposed) and let it reach only what it needs; when it
declares the database or the cache, a security group of its own that its pods carry (security
groups for pods) and that those stores admit; and, when exposed, a TargetGroupBinding that
registers its pods in the ALB's target group. Every Kubernetes object is a manifest from
:mod:`components.compute.manifests`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.common.context import StackContext
from components.compute.identity import pod_identity_trust_policy
from components.compute.service_manifests import (
    SECURITY_GROUP_POLICY_API_VERSION,
    SECURITY_GROUP_POLICY_KIND,
    TARGET_GROUP_BINDING_API_VERSION,
    TARGET_GROUP_BINDING_KIND,
    database_config_manifest,
    database_config_name,
    security_group_policy_manifest,
    service_manifests,
    target_group_binding_manifest,
)
from components.compute.settings import ServiceConfig


def workload_trust_policy(account_id: str, cluster_name: str, namespace: str, service_account: str) -> dict[str, Any]:
    """EKS Pod Identity may assume the role, for this cluster's ServiceAccount only.

    Pod Identity tags the session with the cluster, namespace and service account
    (``sts:TagSession``); matching those request tags means an association made for another
    service, or in another cluster, cannot borrow this role. ``aws:SourceAccount`` closes the
    confused-deputy path.
    """
    return pod_identity_trust_policy(account_id, cluster_name=cluster_name, namespace=namespace,
                                     service_account=service_account)


def caller_namespaces(services: Sequence[ServiceConfig]) -> dict[str, str]:
    """Service name -> the namespace it runs in (its team's)."""
    return {service.name: service.team for service in services}


def callees_of(service: str, services: Sequence[ServiceConfig]) -> list[ServiceConfig]:
    """The services that list ``service`` among their callers: where it must be let out to."""
    return [other for other in services if service in other.callers]


@dataclass(frozen=True)
class RetailServiceArgs:
    spec: ServiceConfig
    namespace: str
    """The team namespace (``TeamNamespaces``); depend on it through ``opts``."""
    cluster_name: pulumi.Input[str]
    provider: k8s.Provider
    zones: Sequence[str]
    """The stack's AZs: more than one makes the zone spread a hard rule for multi-replica services."""
    caller_namespaces: Mapping[str, str] = field(default_factory=dict)
    """Namespace of every service named in ``spec.callers`` (see :func:`caller_namespaces`)."""
    callees: Sequence[ServiceConfig] = ()
    """Services this one calls (see :func:`callees_of`); egress to their pods is allowed."""
    target_group_arn: pulumi.Input[str] | None = None
    """The ALB target group when the service is exposed; none keeps it internal."""
    alb_security_group_id: pulumi.Input[str] | None = None
    """The ALB's security group: the load balancer controller opens the pods' port to it."""
    alb_source_cidrs: Sequence[str] = ()
    """The public subnets' CIDRs, where the load balancers' ENIs live (the ALB's, and the
    partner NLB's); required when exposed or a partner backend."""
    partner_target_group_arn: pulumi.Input[str] | None = None
    """The partner NLB's target group when the service answers partner API operations."""
    partner_security_group_id: pulumi.Input[str] | None = None
    """The partner NLB's security group: the load balancer controller opens the pods' port to it."""
    data_cidrs: Sequence[str] = ()
    """The data tier's subnets (Aurora, ElastiCache); egress there on ``data_ports`` only."""
    data_ports: Sequence[int] = ()
    """The ports of the network stores the service declares; any makes it a data client, with
    its own security group (``vpc_id`` and ``node_security_group_id`` are then required)."""
    vpc_id: pulumi.Input[str] | None = None
    node_security_group_id: pulumi.Input[str] | None = None
    """The group the nodes carry (the cluster's): a data client's pods keep it next to their
    own, so callers, CoreDNS and the ALB reach them as before."""
    database_config: bool = False
    """The pods take their database endpoint from the ConfigMap :meth:`RetailService.connect_database`
    writes (the database is built after the services, which it admits)."""


class RetailService(pulumi.ComponentResource):
    """A microservice: identity, pods, Service, autoscaling, disruption budget, network policy."""

    role: aws.iam.Role
    pod_identity: aws.eks.PodIdentityAssociation
    service_account: k8s.core.v1.ServiceAccount
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service
    autoscaler: k8s.autoscaling.v2.HorizontalPodAutoscaler
    disruption_budget: k8s.policy.v1.PodDisruptionBudget
    ingress_policy: k8s.networking.v1.NetworkPolicy
    egress_policy: k8s.networking.v1.NetworkPolicy
    target_group_binding: k8s.apiextensions.CustomResource | None
    partner_target_group_binding: k8s.apiextensions.CustomResource | None
    security_group: aws.ec2.SecurityGroup | None
    """The pods' own group when the service declares a network store: what the store admits."""
    security_group_policy: k8s.apiextensions.CustomResource | None
    manifests: dict[str, dict[str, Any]]
    """The manifests registered, by kind (plain dicts; without the TargetGroupBinding)."""
    exposed: bool
    partner_backend: bool

    def __init__(self, name: str, context: StackContext, args: RetailServiceArgs,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("retail:compute:RetailService", name, None, opts)
        spec, conv, namespace = args.spec, context.conventions, args.namespace
        self._name, self._spec = name, spec
        self.exposed = args.target_group_arn is not None
        self.partner_backend = args.partner_target_group_arn is not None
        if (self.exposed or self.partner_backend) and not args.alb_source_cidrs:
            raise ValueError(f"service {spec.name!r} is behind a load balancer but no alb_source_cidrs were given: "
                             "its NetworkPolicy would drop the load balancer's traffic")
        aws_child = pulumi.ResourceOptions(parent=self)
        physical = conv.physical_name(spec.name, "workload")
        tags = conv.tags(physical, extra={"service": spec.name, "team": spec.team})

        trust = pulumi.Output.all(context.account_id, args.cluster_name).apply(
            lambda values: json.dumps(workload_trust_policy(values[0], values[1], namespace, spec.name),
                                      sort_keys=True))
        self.role = aws.iam.Role(
            f"{name}-role", name=physical, assume_role_policy=trust,
            description=f"{spec.name} pods in {namespace} (EKS Pod Identity)", tags=tags, opts=aws_child)

        self.manifests = service_manifests(
            service=spec.name, namespace=namespace, image=spec.image, port=spec.port, cpu=spec.cpu,
            memory=spec.memory, min_replicas=spec.min_replicas, max_replicas=spec.max_replicas,
            target_cpu=spec.target_cpu, zone_count=len(args.zones), callers=spec.callers,
            caller_namespaces=args.caller_namespaces, env=spec.env, secrets=spec.secrets,
            requests_per_second_target=spec.requests_per_second_target,
            alb_source_cidrs=args.alb_source_cidrs if self.exposed or self.partner_backend else (),
            callees=[(c.name, c.team, c.port) for c in args.callees],
            data_cidrs=args.data_cidrs, data_ports=args.data_ports,
            database_config=database_config_name(spec.name) if args.database_config else None)
        docs = self.manifests
        self._namespace, self._provider, self._database_config = namespace, args.provider, args.database_config
        self.database_config_map: k8s.core.v1.ConfigMap | None = None
        k8s_child = pulumi.ResourceOptions(parent=self, provider=args.provider)

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account", metadata=docs["ServiceAccount"]["metadata"],
            automount_service_account_token=docs["ServiceAccount"]["automountServiceAccountToken"], opts=k8s_child)
        self.pod_identity = aws.eks.PodIdentityAssociation(
            f"{name}-pod-identity", cluster_name=args.cluster_name, namespace=namespace,
            service_account=spec.name, role_arn=self.role.arn, region=context.region,
            tags=conv.tags(physical), opts=aws_child)
        self.security_group = self.security_group_policy = None
        if args.data_ports:
            if args.vpc_id is None or args.node_security_group_id is None:
                raise ValueError(f"service {spec.name!r} reaches data ports {list(args.data_ports)} but no vpc_id "
                                 "and node_security_group_id were given: its pods need a security group the "
                                 "stores can admit")
            self.security_group = aws.ec2.SecurityGroup(
                f"{name}-pods", vpc_id=args.vpc_id, region=context.region,
                description=f"{spec.name} pods (security groups for pods): the data stores it declares admit this",
                # No kubernetes.io/cluster tag: with two groups on a pod's interface, the load
                # balancer controller opens the ALB's port on the one carrying it (the node's).
                tags=conv.tags(conv.physical_name(spec.name, "pods"), extra={"service": spec.name, "team": spec.team}),
                opts=aws_child)
            policy = pulumi.Output.all(self.security_group.id, args.node_security_group_id).apply(
                lambda ids: security_group_policy_manifest(service=spec.name, namespace=namespace, image=spec.image,
                                                           group_ids=ids))
            self.security_group_policy = k8s.apiextensions.CustomResource(
                f"{name}-security-group-policy", api_version=SECURITY_GROUP_POLICY_API_VERSION,
                kind=SECURITY_GROUP_POLICY_KIND, metadata=docs["Service"]["metadata"],
                spec=policy.apply(lambda doc: doc["spec"]), opts=k8s_child)

        # The Pod Identity webhook injects credentials when a pod is created, and only if the
        # association exists by then: pods created earlier run without AWS credentials. The VPC
        # resource controller's webhook likewise gives a pod its security groups at creation only.
        after_identity = pulumi.ResourceOptions(
            parent=self, provider=args.provider,
            depends_on=[self.service_account, self.pod_identity,
                        *([self.security_group_policy] if self.security_group_policy else [])])
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment", metadata=docs["Deployment"]["metadata"], spec=docs["Deployment"]["spec"],
            opts=after_identity)
        self.service = k8s.core.v1.Service(
            f"{name}-service", metadata=docs["Service"]["metadata"], spec=docs["Service"]["spec"], opts=k8s_child)
        self.autoscaler = k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{name}-hpa", metadata=docs["HorizontalPodAutoscaler"]["metadata"],
            spec=docs["HorizontalPodAutoscaler"]["spec"], opts=k8s_child)
        self.disruption_budget = k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb", metadata=docs["PodDisruptionBudget"]["metadata"],
            spec=docs["PodDisruptionBudget"]["spec"], opts=k8s_child)
        self.ingress_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-ingress", metadata=docs["NetworkPolicy/ingress"]["metadata"],
            spec=docs["NetworkPolicy/ingress"]["spec"], opts=k8s_child)
        self.egress_policy = k8s.networking.v1.NetworkPolicy(
            f"{name}-egress", metadata=docs["NetworkPolicy/egress"]["metadata"],
            spec=docs["NetworkPolicy/egress"]["spec"], opts=k8s_child)

        self.target_group_binding = None
        if self.exposed:
            binding = pulumi.Output.all(args.target_group_arn, args.alb_security_group_id).apply(
                lambda values: target_group_binding_manifest(
                    service=spec.name, namespace=namespace, image=spec.image, target_group_arn=values[0],
                    alb_security_group_id=values[1], port=spec.port))
            self.target_group_binding = k8s.apiextensions.CustomResource(
                f"{name}-target-group-binding", api_version=TARGET_GROUP_BINDING_API_VERSION,
                kind=TARGET_GROUP_BINDING_KIND, metadata=docs["Service"]["metadata"],
                spec=binding.apply(lambda doc: doc["spec"]),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.service]))

        self.partner_target_group_binding = None
        if self.partner_backend:
            binding_name = f"{spec.name}-partners"
            partner = pulumi.Output.all(args.partner_target_group_arn, args.partner_security_group_id).apply(
                lambda values: target_group_binding_manifest(
                    service=spec.name, namespace=namespace, image=spec.image, target_group_arn=values[0],
                    alb_security_group_id=values[1], port=spec.port, name=binding_name))
            self.partner_target_group_binding = k8s.apiextensions.CustomResource(
                f"{name}-partner-target-group-binding", api_version=TARGET_GROUP_BINDING_API_VERSION,
                kind=TARGET_GROUP_BINDING_KIND,
                metadata={**docs["Service"]["metadata"], "name": binding_name},
                spec=partner.apply(lambda doc: doc["spec"]),
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[self.service]))

        self.register_outputs({
            "roleArn": self.role.arn,
            "serviceName": self.service.metadata.name,
            "namespace": namespace,
        })

    def connect_database(self, host: pulumi.Input[str], port: int, database: str, user: str
                         ) -> k8s.core.v1.ConfigMap:
        """Write where the pods connect (``SqlDatabase.client_endpoint``: the proxy's endpoint when
        there is one) and as whom, into the ConfigMap the Deployment reads."""
        if not self._database_config:
            raise ValueError(f"service {self._spec.name!r} was built without database_config=True: its pods "
                             "would never read the endpoint")
        if self.database_config_map is not None:
            raise ValueError(f"service {self._spec.name!r} is already connected to a database")
        spec, namespace = self._spec, self._namespace
        manifest = pulumi.Output.from_input(host).apply(lambda endpoint: database_config_manifest(
            service=spec.name, namespace=namespace, image=spec.image, host=endpoint, port=port, database=database,
            user=user))
        self.database_config_map = k8s.core.v1.ConfigMap(
            f"{self._name}-database", metadata=self.manifests["Deployment"]["metadata"] | {
                "name": database_config_name(spec.name)},
            data=manifest.apply(lambda doc: doc["data"]),
            opts=pulumi.ResourceOptions(parent=self, provider=self._provider))
        return self.database_config_map
