"""A database client's pods learn the endpoint (the proxy's, when there is one) from the
ConfigMap ``RetailService.connect_database`` writes; the manifest passes the cluster's schema."""

from __future__ import annotations

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest

from blueprint.synth import run_program
from components.common.cidr import plan_subnets
from components.compute.manifests import pod_spec_of
from components.compute.pod_security import pod_security_violations
from components.compute.service import RetailService, RetailServiceArgs, caller_namespaces
from components.compute.service_manifests import (
    DATABASE_CONFIG_KEYS,
    database_config_manifest,
    database_config_name,
    deployment_manifest,
)
from config.loader import parse_stack_config
from tests.support import PROJECT, stack_context

PROXY_HOST = "retail-prod-sql-proxy.proxy-0123456789ab.eu-west-1.rds.amazonaws.com"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _sql_client(stack: str = "prod"):
    config = parse_stack_config(PROJECT.stack_config(stack))
    spec = next(s for s in config.services if s.uses.sql is not None)
    return config, spec


def build(*, database_config: bool, connect: bool):
    config, spec = _sql_client()
    subnets = plan_subnets(config.network.cidr, config.network.az_count)
    errors: list[str] = []

    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}")
        service = RetailService(spec.name, stack_context(conventions=config.conventions("prod"), region=config.region),
                                RetailServiceArgs(spec=spec, namespace=spec.team, cluster_name="retail-test",
                                                  provider=provider, zones=["eu-west-1a"],
                                                  caller_namespaces=caller_namespaces(config.services),
                                                  data_cidrs=[s.cidr for s in subnets if s.tier == "isolated"],
                                                  data_ports=[5432], vpc_id="vpc-0123456789abcdef0",
                                                  node_security_group_id="sg-0123456789abcdef0",
                                                  database_config=database_config))
        if connect:
            assert spec.uses.sql is not None
            try:
                service.connect_database(pulumi.Output.from_input(PROXY_HOST), 5432, "retail", spec.uses.sql.user)
            except ValueError as error:
                errors.append(str(error))

    graph = run_program(program, project="retail", stack="prod", config={"aws:region": config.region})
    return graph, spec, errors


def test_pods_read_the_endpoint_from_the_config_map_it_writes():
    graph, spec, errors = build(database_config=True, connect=True)
    assert errors == []
    (config_map,) = graph.of_type(CONFIG_MAP)
    assert config_map.inputs["metadata"]["name"] == database_config_name(spec.name) == f"{spec.name}-database"
    assert config_map.inputs["metadata"]["namespace"] == spec.team
    assert spec.uses.sql is not None
    assert config_map.inputs["data"] == {
        "DATABASE_HOST": PROXY_HOST, "DATABASE_PORT": "5432", "DATABASE_NAME": "retail",
        "DATABASE_USER": spec.uses.sql.user, "PGSSLMODE": "verify-full", "PGSSLROOTCERT": "system"}
    (deployment,) = graph.of_type(DEPLOYMENT)
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": f"{spec.name}-database", "optional": False}}]


def test_without_database_config_the_deployment_is_unchanged_and_connect_is_refused():
    graph, _spec, errors = build(database_config=False, connect=True)
    assert graph.of_type(CONFIG_MAP) == []
    (deployment,) = graph.of_type(DEPLOYMENT)
    (container,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    assert "envFrom" not in container
    assert len(errors) == 1 and "database_config=True" in errors[0]


def test_the_manifests_pass_the_schema_and_pss_restricted():
    config, _spec = _sql_client()
    version = f"{config.kubernetes.version}.0"
    deployment = deployment_manifest(service="cart", namespace="storefront", image="registry.example.com/cart:1.0.0",
                                     port=8080, cpu="250m", memory="512Mi", min_replicas=2, zone_count=3,
                                     database_config="cart-database")
    kubernetes_validate.validate(deployment, version, strict=True)
    pod = pod_spec_of(deployment)
    assert pod is not None and pod_security_violations(pod) == []
    config_map = database_config_manifest(service="cart", namespace="storefront",
                                          image="registry.example.com/cart:1.0.0", host=PROXY_HOST, port=5432,
                                          database="retail", user="cart_app")
    kubernetes_validate.validate(config_map, version, strict=True)
    assert tuple(config_map["data"]) == DATABASE_CONFIG_KEYS


@pytest.mark.parametrize("value", ["x", None])
def test_no_database_config_means_no_env_from(value):
    deployment = deployment_manifest(service="cart", namespace="storefront", image="registry.example.com/cart:1.0.0",
                                     port=8080, cpu="250m", memory="512Mi", min_replicas=2, zone_count=3,
                                     database_config=value)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert ("envFrom" in container) is (value is not None)
