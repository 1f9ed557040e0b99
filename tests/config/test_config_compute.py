"""The compute and edge config: one test per error message the issue names, and the presets."""

from __future__ import annotations

import pytest

from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS
from config.loader import ConfigError, parse_stack_config
from config.rules import loosened_defaults
from tests.support import config_with


def problems(stack: str, **overrides) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_stack_config(config_with(stack, **overrides))
    return caught.value.problems


def services_with(stack: str, **changes) -> list[dict]:
    services = [dict(s) for s in parse_stack_config(config_with(stack)).model_dump(by_alias=True)["services"]]
    services[0].update(changes)
    return services


def test_presets_parse_with_four_exposed_services_in_two_teams():
    config = parse_stack_config(config_with("prod"))
    assert [s.name for s in config.services] == ["storefront", "catalog", "cart", "checkout"]
    assert {s.team for s in config.services} == {t.name for t in config.kubernetes.teams}
    assert config.kubernetes.version in SUPPORTED_KUBERNETES_VERSIONS
    assert config.kubernetes.public_endpoint is False
    assert config.kubernetes.karpenter.cpu_limit == 1000


def test_min_replicas_above_max_is_refused():
    [(path, message)] = problems("dev", **{"retail:services": _json(services_with("dev", minReplicas=5,
                                                                                    maxReplicas=2))})
    assert path == "retail:services[0]"
    assert "minReplicas (5) is greater than maxReplicas (2)" in message


def test_an_unsupported_kubernetes_version_is_refused():
    [(path, message)] = problems("prod", kubernetes={"version": "1.29"})
    assert path == "retail:kubernetes.version"
    assert "'1.29' is not a supported EKS version; use one of 1.34, 1.35, 1.36 (EKS.2)" == message


@pytest.mark.parametrize("limit", [0, -5, 9])
def test_a_rate_limit_below_the_waf_minimum_is_refused(limit):
    [(path, message)] = problems("prod", edge={"rateLimit": limit})
    assert path == "retail:edge.rateLimit"
    assert "below AWS WAF's minimum rate limit of 10" in message


@pytest.mark.parametrize("family", ["m7g.large", "M7G", "7g", "m-7"])
def test_an_instance_family_of_the_wrong_shape_is_refused(family):
    karpenter = parse_stack_config(config_with("prod")).kubernetes.karpenter.model_dump(by_alias=True)
    [(path, message)] = problems("prod", kubernetes={"karpenter": {**karpenter, "instanceFamilies": ["m7g", family]}})
    assert path == "retail:kubernetes.karpenter.instanceFamilies"
    assert f"{family!r} not an EC2 instance family" in message


def test_a_path_another_service_already_uses_is_refused():
    services = services_with("dev")
    services[2]["path"] = services[1]["path"]
    [(path, message)] = problems("dev", **{"retail:services": _json(services)})
    assert path == "retail:services"
    assert "path '/catalog' of 'cart' is already used by 'catalog'; give each exposed service its own path" in message


def test_a_service_in_an_unknown_team_is_refused():
    [(path, message)] = problems("dev", **{"retail:services": _json(services_with("dev", team="payments"))})
    assert path == "retail:services[0].team"
    assert "'payments' is not a team in retail:kubernetes.teams (checkout, storefront)" == message


def test_unknown_callers_and_latest_images_are_refused():
    services = services_with("dev", callers=["ghost"], image="registry.example.com/retail/storefront:latest")
    found = dict(problems("dev", **{"retail:services": _json(services)}))
    assert "must be a registry image pinned by tag or digest" in found["retail:services[0].image"]


def test_a_public_endpoint_needs_cidrs_and_cidrs_need_it():
    [(path, message)] = problems("dev", kubernetes={"publicEndpoint": True})
    assert path == "retail:kubernetes" and "publicAccessCidrs is empty" in message
    [(path, message)] = problems("dev", kubernetes={"publicAccessCidrs": ["198.51.100.0/24"]})
    assert "publicEndpoint is off" in message


def test_opening_the_prod_api_endpoint_is_a_warning():
    config = parse_stack_config(config_with("prod", kubernetes={"publicEndpoint": True,
                                                                 "publicAccessCidrs": ["198.51.100.0/24"]}))
    assert any("publicEndpoint is on in prod" in note for note in loosened_defaults(config))


def test_a_domain_must_hold_its_record():
    [(path, message)] = problems("dev", edge={"domain": {"zoneName": "example.com", "recordName": "shop.other.org"}})
    assert path == "retail:edge.domain"
    assert "is not inside zoneName" in message


def _json(value) -> str:
    import json

    return json.dumps(value)


def test_unknown_callers_are_refused():
    [(path, message)] = problems("dev", **{"retail:services": _json(services_with("dev", callers=["ghost"]))})
    assert path == "retail:services"
    assert "'storefront' names unknown callers: ghost" in message
