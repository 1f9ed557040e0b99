"""The RetailService component, built alone under the project's mocks, and the PSS checker."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from blueprint import ResourceGraph
from blueprint.graph import Resource
from blueprint.mocks import ACCOUNT_ID
from blueprint.synth import run_program
from components.common.cidr import plan_subnets
from components.compute.manifests import image_version, pod_spec_of
from components.compute.pod_security import pod_security_violations
from components.compute.service import (
    RetailService,
    RetailServiceArgs,
    callees_of,
    caller_namespaces,
    workload_trust_policy,
)
from components.compute.service_manifests import (
    AWS_API_CIDR,
    POD_IDENTITY_AGENT_CIDR,
    RUN_AS_USER,
    SECRETS_MOUNT_ROOT,
    SECURITY_GROUP_POLICY_API_VERSION,
    deployment_manifest,
    security_group_policy_problems,
)
from components.compute.settings import ServiceConfig
from config.loader import parse_stack_config
from config.stack import StackConfig
from tests.support import PROJECT, STACKS, stack_context

COMPONENT = "retail:compute:RetailService"
ROLE = "aws:iam/role:Role"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
BINDING = "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"

CLUSTER = "retail-test"
ALB_SG = "sg-0a1b2c3d4e5f60718"
DATA_PORTS = (5433, 6379)
VPC = "vpc-0123456789abcdef0"
NODE_SG = "sg-0f1e2d3c4b5a69788"


def target_group_arn(service: str) -> str:
    return f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT_ID}:targetgroup/{service}/0123456789abcdef"


@dataclass(frozen=True)
class Built:
    graph: ResourceGraph
    stack: StackConfig
    services: tuple[ServiceConfig, ...]
    manifests: dict[str, dict[str, dict[str, Any]]]

    def service(self, name: str) -> ServiceConfig:
        return next(s for s in self.services if s.name == name)

    def of(self, type_token: str, service: str) -> Resource:
        component = self.graph.one(COMPONENT, service)
        (resource,) = [r for r in self.graph.children(component.urn) if r.type == type_token
                       and (type_token != NETWORK_POLICY)]
        return resource

    def policy(self, service: str, direction: str) -> Resource:
        return next(r for r in self.graph.of_type(NETWORK_POLICY)
                    if r.inputs["metadata"]["name"] == f"{service}-{direction}")

    def pod_spec(self, service: str) -> dict[str, Any]:
        return self.of(DEPLOYMENT, service).inputs["spec"]["template"]["spec"]

    def container(self, service: str) -> dict[str, Any]:
        (container,) = self.pod_spec(service)["containers"]
        return container


def build(stack: str, services: Sequence[ServiceConfig] | None = None, *,
          data_ports: Sequence[int] = DATA_PORTS) -> Built:
    config = parse_stack_config(PROJECT.stack_config(stack))
    services = tuple(services or config.services)
    conv = config.conventions(stack)
    zones = [f"{config.region}{letter}" for letter in "abc"[:config.network.az_count]]
    subnets = plan_subnets(config.network.cidr, config.network.az_count)
    public = [s.cidr for s in subnets if s.tier == "public"]
    isolated = [s.cidr for s in subnets if s.tier == "isolated"]
    namespaces = caller_namespaces(services)
    manifests: dict[str, dict[str, dict[str, Any]]] = {}

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        for spec in services:
            exposed = spec.path is not None
            component = RetailService(spec.name,
                stack_context(conventions=conv, region=config.region),
                RetailServiceArgs(
                    spec=spec,
                    namespace=spec.team,
                    cluster_name=CLUSTER,
                    provider=provider,
                    zones=zones,
                    caller_namespaces=namespaces,
                    callees=callees_of(spec.name, services),
                    target_group_arn=target_group_arn(spec.name) if exposed else None,
                    alb_security_group_id=ALB_SG if exposed else None,
                    alb_source_cidrs=public if exposed else (),
                    data_cidrs=isolated,
                    data_ports=data_ports,
                    vpc_id=VPC,
                    node_security_group_id=NODE_SG,
                ))
            manifests[spec.name] = component.manifests
            pulumi.export(f"{spec.name}RoleArn", component.role.arn)

    graph = run_program(program, project="retail", stack=stack, config={"aws:region": config.region})
    return Built(graph, config, services, manifests)


@cache
def built(stack: str) -> Built:
    return build(stack)


@cache
def variant() -> Built:
    """Prod with catalog kept internal, given env, secrets and a requests-per-second target."""
    config = parse_stack_config(PROJECT.stack_config("prod"))
    services = [s.model_copy(update={"path": None, "env": {"LOG_LEVEL": "info", "CACHE_TTL": "30"},
                                     "secrets": ["catalog-db", "search-api"], "requests_per_second_target": 120})
                if s.name == "catalog" else s for s in config.services]
    return build("prod", services)


def _normalise(value: Any) -> Any:
    """Mocked inputs come back through protobuf: whole numbers arrive as floats."""
    return json.loads(json.dumps(value), parse_float=lambda text: int(float(text)) if float(text).is_integer()
                      else float(text))


# -- identity ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_role_is_trusted_by_pod_identity_for_this_service_account_only(stack):
    b = built(stack)
    for spec in b.services:
        role = b.of(ROLE, spec.name)
        trust = json.loads(role.inputs["assumeRolePolicy"])
        assert trust == workload_trust_policy(ACCOUNT_ID, CLUSTER, spec.team, spec.name)
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == ACCOUNT_ID
        assert role.inputs["tags"]["service"] == spec.name
        assert b.graph.outputs[f"{spec.name}RoleArn"].endswith(f":role/{role.inputs['name']}")


@pytest.mark.parametrize("stack", STACKS)
def test_pod_identity_association_binds_the_role_to_the_service_account(stack):
    b = built(stack)
    for spec in b.services:
        association = b.of(POD_IDENTITY, spec.name).inputs
        role = b.of(ROLE, spec.name).inputs
        account = b.of(SERVICE_ACCOUNT, spec.name).inputs
        assert association["clusterName"] == CLUSTER
        assert association["namespace"] == spec.team == account["metadata"]["namespace"]
        assert association["serviceAccount"] == spec.name == account["metadata"]["name"]
        assert association["roleArn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/{role['name']}"
        assert b.pod_spec(spec.name)["serviceAccountName"] == spec.name


@pytest.mark.parametrize("stack", STACKS)
def test_no_kubernetes_api_token_is_mounted(stack):
    b = built(stack)
    for spec in b.services:
        assert b.of(SERVICE_ACCOUNT, spec.name).inputs["automountServiceAccountToken"] is False
        assert b.pod_spec(spec.name)["automountServiceAccountToken"] is False


@pytest.mark.parametrize("stack", STACKS)
def test_pods_are_created_only_once_their_identity_exists(stack):
    b = built(stack)
    for spec in b.services:
        deployment = b.of(DEPLOYMENT, spec.name)
        assert b.of(POD_IDENTITY, spec.name).urn in deployment.dependencies
        assert b.of(SERVICE_ACCOUNT, spec.name).urn in deployment.dependencies


# -- the Deployment --------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_deployment_passes_pss_restricted(stack):
    b = built(stack)
    for spec in b.services:
        assert pod_security_violations(b.pod_spec(spec.name)) == []


@pytest.mark.parametrize("stack", STACKS)
def test_security_contexts(stack):
    b = built(stack)
    for spec in b.services:
        pod = b.pod_spec(spec.name)["securityContext"]
        assert pod["runAsNonRoot"] is True
        assert pod["runAsUser"] == pod["runAsGroup"] == pod["fsGroup"] == RUN_AS_USER != 0
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
        container = b.container(spec.name)["securityContext"]
        assert container["allowPrivilegeEscalation"] is False
        assert container["privileged"] is False
        assert container["readOnlyRootFilesystem"] is True
        assert container["capabilities"] == {"drop": ["ALL"]}


@pytest.mark.parametrize("stack", STACKS)
def test_writable_tmp_is_an_empty_dir(stack):
    b = built(stack)
    for spec in b.services:
        volumes = {v["name"]: v for v in b.pod_spec(spec.name)["volumes"]}
        assert "emptyDir" in volumes["tmp"]
        assert {"name": "tmp", "mountPath": "/tmp"} in b.container(spec.name)["volumeMounts"]


@pytest.mark.parametrize("stack", STACKS)
def test_resources_requests_equal_limits_from_config(stack):
    b = built(stack)
    for spec in b.services:
        resources = b.container(spec.name)["resources"]
        assert resources["requests"] == resources["limits"] == {"cpu": spec.cpu, "memory": spec.memory}


@pytest.mark.parametrize("stack", STACKS)
def test_probes_on_the_named_port(stack):
    b = built(stack)
    for spec in b.services:
        container = b.container(spec.name)
        assert container["ports"] == [{"name": "http", "containerPort": spec.port, "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] == "http"


@pytest.mark.parametrize("stack", STACKS)
def test_rollout_never_drops_below_capacity_and_hpa_owns_replicas(stack):
    b = built(stack)
    for spec in b.services:
        deployment = b.of(DEPLOYMENT, spec.name).inputs["spec"]
        assert deployment["strategy"] == {"type": "RollingUpdate",
                                          "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}}
        assert "replicas" not in deployment
        assert deployment["revisionHistoryLimit"] > 0
        assert b.pod_spec(spec.name)["terminationGracePeriodSeconds"] > \
            b.container(spec.name)["lifecycle"]["preStop"]["sleep"]["seconds"]


@pytest.mark.parametrize("stack", STACKS)
def test_topology_spread_hard_across_zones_only_with_several_replicas(stack):
    b = built(stack)
    for spec in b.services:
        zone, host = b.pod_spec(spec.name)["topologySpreadConstraints"]
        assert zone["topologyKey"] == "topology.kubernetes.io/zone" and zone["maxSkew"] == 1
        assert zone["labelSelector"] == {"matchLabels": {"app.kubernetes.io/name": spec.name}}
        expected = "DoNotSchedule" if spec.min_replicas > 1 else "ScheduleAnyway"
        assert zone["whenUnsatisfiable"] == expected
        assert zone["nodeTaintsPolicy"] == "Honor"
        assert host["topologyKey"] == "kubernetes.io/hostname" and host["whenUnsatisfiable"] == "ScheduleAnyway"
    # The presets: dev runs single replicas, staging and prod several.
    assert {s.min_replicas > 1 for s in b.services} == {stack != "dev"}


def test_env_is_plain_and_secrets_are_read_only_files():
    b = variant()
    container = b.container("catalog")
    assert container["env"] == [{"name": "CACHE_TTL", "value": "30"}, {"name": "LOG_LEVEL", "value": "info"}]
    assert not any("valueFrom" in e for e in container["env"]) and "envFrom" not in container
    volumes = {v["name"]: v for v in b.pod_spec("catalog")["volumes"]}
    for secret in ("catalog-db", "search-api"):
        assert volumes[f"secret-{secret}"]["secret"]["secretName"] == secret
        assert {"name": f"secret-{secret}", "mountPath": f"{SECRETS_MOUNT_ROOT}/{secret}", "readOnly": True} \
            in container["volumeMounts"]


@pytest.mark.parametrize("stack", STACKS)
def test_labels_and_pinned_image(stack):
    b = built(stack)
    for spec in b.services:
        deployment = b.of(DEPLOYMENT, spec.name).inputs
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels == {"app.kubernetes.io/name": spec.name, "app.kubernetes.io/part-of": "retail",
                          "app.kubernetes.io/managed-by": "pulumi",
                          "app.kubernetes.io/version": image_version(spec.image)}
        assert deployment["metadata"]["labels"] == labels
        assert deployment["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": spec.name}}
        assert b.container(spec.name)["image"] == spec.image
    assert image_version("registry.example.com/retail/cart:1.4.2") == "1.4.2"
    assert image_version("registry.example.com/retail/cart@sha256:" + "ab" * 32) == "sha256-abababababab"


# -- Service, HPA, PDB -----------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_cluster_ip_service_on_port_80(stack):
    b = built(stack)
    for spec in b.services:
        service = b.of(SERVICE, spec.name).inputs["spec"]
        assert service["type"] == "ClusterIP"
        assert service["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
        assert service["selector"] == {"app.kubernetes.io/name": spec.name}


@pytest.mark.parametrize("stack", STACKS)
def test_hpa_numbers_and_surge_behaviour(stack):
    b = built(stack)
    for spec in b.services:
        hpa = b.of(HPA, spec.name).inputs["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name}
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (spec.min_replicas, spec.max_replicas)
        assert hpa["metrics"] == [{"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": spec.target_cpu}}}]
        up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
        assert up["stabilizationWindowSeconds"] == 0 and up["selectPolicy"] == "Max"
        assert _normalise(up["policies"]) == [{"type": "Percent", "value": 100, "periodSeconds": 15},
                                              {"type": "Pods", "value": 10, "periodSeconds": 15}]
        assert down["stabilizationWindowSeconds"] == 300
        assert _normalise(down["policies"]) == [{"type": "Percent", "value": 10, "periodSeconds": 60}]


def test_hpa_adds_the_requests_per_second_metric_when_asked():
    metrics = variant().of(HPA, "catalog").inputs["spec"]["metrics"]
    assert metrics[1] == {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                                   "target": {"type": "AverageValue", "averageValue": "120"}}}


@pytest.mark.parametrize("stack", STACKS)
def test_pdb_half_available_with_replicas_one_evictable_alone(stack):
    b = built(stack)
    for spec in b.services:
        pdb = b.of(PDB, spec.name).inputs["spec"]
        assert pdb["selector"] == {"matchLabels": {"app.kubernetes.io/name": spec.name}}
        assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
        if spec.min_replicas > 1:
            assert pdb["minAvailable"] == "50%" and "maxUnavailable" not in pdb
        else:
            assert pdb["maxUnavailable"] == 1 and "minAvailable" not in pdb


# -- network policy --------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_ingress_admits_exactly_the_configured_callers_on_the_port(stack):
    b = built(stack)
    for spec in b.services:
        policy = b.policy(spec.name, "ingress").inputs
        assert policy["metadata"]["namespace"] == spec.team
        assert policy["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": spec.name}}
        assert policy["spec"]["policyTypes"] == ["Ingress"]
        admitted: set[tuple[str, str]] = set()
        for rule in policy["spec"]["ingress"]:
            assert _normalise(rule["ports"]) == [{"protocol": "TCP", "port": spec.port}]
            for peer in rule["from"]:
                if "ipBlock" in peer:
                    continue
                namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                (expression,) = peer["podSelector"]["matchExpressions"]
                assert expression["key"] == "app.kubernetes.io/name" and expression["operator"] == "In"
                admitted |= {(namespace, name) for name in expression["values"]}
        assert admitted == {(b.service(caller).team, caller) for caller in spec.callers}


@pytest.mark.parametrize("stack", STACKS)
def test_alb_is_admitted_from_the_public_subnets_only_when_exposed(stack):
    config = parse_stack_config(PROJECT.stack_config(stack))
    public = {s.cidr for s in plan_subnets(config.network.cidr, config.network.az_count) if s.tier == "public"}
    for b in (built(stack), variant()):
        for spec in b.services:
            rules = b.policy(spec.name, "ingress").inputs["spec"]["ingress"]
            blocks = {peer["ipBlock"]["cidr"] for rule in rules for peer in rule["from"] if "ipBlock" in peer}
            if spec.path is None:
                assert blocks == set()
            elif b is built(stack):
                assert blocks == public


def test_internal_service_without_callers_admits_nobody():
    config = parse_stack_config(PROJECT.stack_config("dev"))
    lonely = [s.model_copy(update={"path": None}) if s.name == "storefront" else s for s in config.services]
    b = build("dev", lonely)
    assert b.policy("storefront", "ingress").inputs["spec"]["ingress"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_egress_reaches_callees_pod_identity_aws_apis_and_data_ports_only(stack):
    b = built(stack)
    for spec in b.services:
        rules = b.policy(spec.name, "egress").inputs["spec"]["egress"]
        peers = [(json.dumps(_normalise(rule["to"]), sort_keys=True), json.dumps(_normalise(rule["ports"])))
                 for rule in rules]
        callees = [s for s in b.services if spec.name in s.callers]
        assert len(rules) == len(callees) + 3
        for callee in callees:
            assert any(f'"kubernetes.io/metadata.name": "{callee.team}"' in to
                       and f'"app.kubernetes.io/name": "{callee.name}"' in to
                       and f'"port": {callee.port}' in ports for to, ports in peers)
        cidrs = {peer["ipBlock"]["cidr"]: _normalise(rule["ports"])
                 for rule in rules for peer in rule["to"] if "ipBlock" in peer}
        assert cidrs[POD_IDENTITY_AGENT_CIDR] == [{"protocol": "TCP", "port": 80}]
        assert cidrs[AWS_API_CIDR] == [{"protocol": "TCP", "port": 443}]
        data = [ports for cidr, ports in cidrs.items() if cidr not in (POD_IDENTITY_AGENT_CIDR, AWS_API_CIDR)]
        assert data and all(ports == [{"protocol": "TCP", "port": p} for p in DATA_PORTS] for ports in data)


# -- TargetGroupBinding ----------------------------------------------------------------------------

def test_target_group_binding_only_for_exposed_services_with_their_arn():
    b = variant()
    bindings = {r.inputs["metadata"]["name"]: r.inputs for r in b.graph.of_type(BINDING)}
    assert set(bindings) == {s.name for s in b.services if s.path is not None}
    assert "catalog" not in bindings
    for name, binding in bindings.items():
        spec = binding["spec"]
        assert spec["targetGroupARN"] == target_group_arn(name)
        assert spec["targetType"] == "ip"
        assert _normalise(spec["serviceRef"]) == {"name": name, "port": 80}
        (rule,) = spec["networking"]["ingress"]
        assert rule["from"] == [{"securityGroup": {"groupID": ALB_SG}}]
        assert _normalise(rule["ports"]) == [{"protocol": "TCP", "port": b.service(name).port}]
        assert binding["metadata"]["namespace"] == b.service(name).team


def test_exposed_service_without_alb_cidrs_is_refused():
    config = parse_stack_config(PROJECT.stack_config("dev"))
    spec = config.services[0]

    def program() -> None:
        RetailService(spec.name,
            stack_context(conventions=config.conventions("dev"), region=config.region),
            RetailServiceArgs(
                spec=spec,
                namespace=spec.team,
                cluster_name=CLUSTER,
                provider=k8s.Provider("k8s", kubeconfig="{}"),
                zones=["eu-west-1a", "eu-west-1b"],
                target_group_arn=target_group_arn(spec.name),
            ))

    with pytest.raises(Exception, match="alb_source_cidrs"):
        run_program(program, project="retail", stack="dev", config={"aws:region": config.region})


# -- security groups for pods ----------------------------------------------------------------------

SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
SECURITY_GROUP_POLICY = "kubernetes:vpcresources.k8s.aws/v1beta1:SecurityGroupPolicy"


@pytest.mark.parametrize("stack", STACKS)
def test_a_data_client_wears_its_own_group_and_the_nodes_and_its_pods_wait_for_it(stack):
    b = built(stack)
    for spec in b.services:
        group, policy = b.of(SECURITY_GROUP, spec.name), b.of(SECURITY_GROUP_POLICY, spec.name)
        assert group.inputs["vpcId"] == VPC
        # Rules come from the stores it declares (they admit it); it has none of its own.
        assert not group.inputs.get("ingress") and not group.inputs.get("egress")
        # The load balancer controller opens the ALB's port on the one group tagged for the
        # cluster: the nodes', never this one.
        assert not any(key.startswith("kubernetes.io/cluster/") for key in group.inputs["tags"])
        assert policy.inputs["spec"] == {"podSelector": {"matchLabels": {"app.kubernetes.io/name": spec.name}},
                                         "securityGroups": {"groupIds": [group.id, NODE_SG]}}
        assert policy.inputs["metadata"]["namespace"] == spec.team
        assert security_group_policy_problems(
            {"apiVersion": SECURITY_GROUP_POLICY_API_VERSION, "kind": "SecurityGroupPolicy", **policy.inputs}) == []
        # The resource controller assigns groups when a pod is created: none may come first.
        assert policy.urn in b.of(DEPLOYMENT, spec.name).dependencies


def test_a_service_reaching_no_data_store_gets_no_group():
    b = build("dev", data_ports=())
    assert b.graph.of_type(SECURITY_GROUP) == [] and b.graph.of_type(SECURITY_GROUP_POLICY) == []


def test_a_data_client_without_a_vpc_is_refused():
    config = parse_stack_config(PROJECT.stack_config("dev"))
    spec = config.services[0]

    def program() -> None:
        RetailService(spec.name, stack_context(conventions=config.conventions("dev"), region=config.region),
                      RetailServiceArgs(spec=spec, namespace=spec.team, cluster_name=CLUSTER,
                                        provider=k8s.Provider("k8s", kubeconfig="{}"), zones=["eu-west-1a"],
                                        data_cidrs=["10.0.64.0/20"], data_ports=[5432]))

    with pytest.raises(Exception, match="node_security_group_id"):
        run_program(program, project="retail", stack="dev", config={"aws:region": config.region})


# -- structure ------------------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_children_are_parented_and_kubernetes_objects_use_the_provider(stack):
    b = built(stack)
    provider = b.graph.one("pulumi:providers:kubernetes")
    for spec in b.services:
        component = b.graph.one(COMPONENT, spec.name)
        children = b.graph.children(component.urn)
        # Role, association, account, deployment, service, HPA, PDB, two policies, binding;
        # with data ports, the pods' security group and its SecurityGroupPolicy.
        assert len(children) == 12
        for child in children:
            if child.type.startswith("kubernetes:"):
                assert child.provider == provider.urn


@pytest.mark.parametrize("stack", STACKS)
def test_registered_objects_are_the_pure_manifests(stack):
    b = built(stack)
    for spec in b.services:
        component = b.graph.one(COMPONENT, spec.name)
        registered = {r.inputs["kind"]: r.inputs for r in b.graph.children(component.urn)
                      if r.type.startswith("kubernetes:") and r.type != NETWORK_POLICY}
        for key, doc in b.manifests[spec.name].items():
            if key.startswith("NetworkPolicy"):
                inputs = b.policy(spec.name, key.split("/")[1]).inputs
            else:
                inputs = registered[doc["kind"]]
            assert _normalise({k: v for k, v in inputs.items()}) == doc


# -- the PSS checker --------------------------------------------------------------------------------

def _good_pod() -> dict[str, Any]:
    return copy.deepcopy(pod_spec_of(deployment_manifest(
        service="cart", namespace="storefront", image="registry.example.com/retail/cart:1.0.0", port=8080,
        cpu="250m", memory="256Mi", min_replicas=2, zone_count=3, secrets=["db"])))


def _container(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["containers"][0]


def test_pss_checker_admits_the_template():
    assert pod_security_violations(_good_pod()) == []


def _break(mutate) -> list[str]:
    pod = _good_pod()
    mutate(pod)
    return pod_security_violations(pod)


@pytest.mark.parametrize(("mutate", "expected"), [
    (lambda p: _container(p)["securityContext"].update(privileged=True), "container app is privileged"),
    (lambda p: p.update(hostNetwork=True), "pod sets hostNetwork: true"),
    (lambda p: p.update(hostPID=True), "pod sets hostPID: true"),
    (lambda p: p["securityContext"].pop("seccompProfile"), "container app has no seccomp profile"),
    (lambda p: p["securityContext"].update(seccompProfile={"type": "Unconfined"}), "Unconfined"),
    (lambda p: p["securityContext"].update(runAsUser=0), "pod sets securityContext.runAsUser: 0"),
    (lambda p: _container(p)["securityContext"].update(runAsUser=0), "container app sets runAsUser: 0"),
    (lambda p: _container(p)["securityContext"].update(capabilities={"drop": ["ALL"], "add": ["SYS_ADMIN"]}),
     "adds capabilities SYS_ADMIN"),
    (lambda p: _container(p)["securityContext"].update(capabilities={"drop": ["NET_RAW"]}),
     "does not drop all capabilities"),
    (lambda p: p["volumes"].append({"name": "host", "hostPath": {"path": "/var/run"}}), "is of type hostPath"),
    (lambda p: _container(p)["securityContext"].pop("allowPrivilegeEscalation"),
     "container app does not set allowPrivilegeEscalation: false"),
    (lambda p: (p["securityContext"].pop("runAsNonRoot"), _container(p)["securityContext"].pop("runAsNonRoot")),
     "container app may run as root"),
    (lambda p: _container(p)["ports"][0].update(hostPort=8080), "binds hostPort 8080"),
    (lambda p: p["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]), "kernel.msgmax"),
    (lambda p: _container(p)["securityContext"].update(procMount="Unmasked"), "procMount"),
    (lambda p: _container(p)["securityContext"].update(seLinuxOptions={"user": "root"}), "seLinuxOptions.user"),
    (lambda p: p.setdefault("initContainers", []).append({"name": "init", "image": "x:1"}),
     "init container init does not set allowPrivilegeEscalation: false"),
])
def test_pss_checker_refuses(mutate, expected):
    problems = _break(mutate)
    assert any(expected in problem for problem in problems), problems


def test_pss_checker_allows_net_bind_service_and_container_level_seccomp():
    def mutate(pod):
        seccomp = pod["securityContext"].pop("seccompProfile")
        _container(pod)["securityContext"].update(seccompProfile=seccomp,
                                                  capabilities={"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
    assert _break(mutate) == []


def test_pss_checker_skips_linux_only_controls_for_windows_pods():
    def mutate(pod):
        pod["os"] = {"name": "windows"}
        pod["securityContext"].pop("seccompProfile")
        _container(pod)["securityContext"].pop("allowPrivilegeEscalation")
        _container(pod)["securityContext"].pop("capabilities")
    assert _break(mutate) == []
