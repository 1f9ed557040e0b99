"""``blueprint cost``: the estimate against hand-computed figures for a small graph built by
hand, a peak event's added cost from a hand-built EventPlan, the comparison of two graphs, the
CLI's JSON shape, and the price table's date and sources on every output."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blueprint.__main__ import EXIT_BAD_INPUT, EXIT_OK, main
from blueprint.cost import ASSUMPTIONS, compare, estimate, event_cost, headline, render_compare, render_text
from blueprint.graph import Resource, ResourceGraph
from blueprint.prices import PRICES, PRICES_DATE, REGIONS
from blueprint.render import make_console
from blueprint.summary import summary_lines
from components.peaks.plan import EventPlan, PeakEvent, ServicePeak

PRIMARY, DR = "eu-west-1", "eu-central-1"
MONTH = 730


def res(type_: str, name: str, region: str | None = PRIMARY, **inputs: Any) -> Resource:
    return Resource(urn=f"urn:pulumi:test::retail::{type_}::{name}", type=type_, name=name, custom=True,
                    inputs=inputs, region=region)


def small_graph(*extra: Resource) -> ResourceGraph:
    """2 NAT gateways, an EKS cluster, a node group of 3 m7g.large, Aurora with 2 Serverless v2
    instances at min 0.5 ACU (I/O-Optimized: no I/O line), 1 Redis cache node, a DynamoDB table
    replicated to the DR region; in the DR region one NAT gateway."""
    resources = [
        res("aws:ec2/natGateway:NatGateway", "nat-0"),
        res("aws:ec2/natGateway:NatGateway", "nat-1"),
        res("aws:eks/cluster:Cluster", "eks"),
        res("aws:eks/nodeGroup:NodeGroup", "eks-system", instanceTypes=["m7g.large"],
            scalingConfig={"minSize": 3, "desiredSize": 3, "maxSize": 6}),
        res("aws:rds/cluster:Cluster", "sql", clusterIdentifier="shop-sql", storageType="aurora-iopt1",
            serverlessv2ScalingConfiguration={"minCapacity": 0.5, "maxCapacity": 16}),
        res("aws:rds/clusterInstance:ClusterInstance", "sql-1", clusterIdentifier="shop-sql",
            instanceClass="db.serverless"),
        res("aws:rds/clusterInstance:ClusterInstance", "sql-2", clusterIdentifier="shop-sql",
            instanceClass="db.serverless"),
        res("aws:elasticache/replicationGroup:ReplicationGroup", "cache", replicationGroupId="shop-cache",
            nodeType="cache.t4g.small", numCacheClusters=1, engine="redis"),
        res("aws:dynamodb/table:Table", "tables-carts", billingMode="PAY_PER_REQUEST",
            replicas=[{"regionName": DR}]),
        res("aws:ec2/natGateway:NatGateway", "dr-nat-0", region=DR),
        *extra,
    ]
    return ResourceGraph(project="retail", stack="test", region=PRIMARY, resources=tuple(resources),
                         outputs={"drRegion": DR})


def _m(value: float) -> str:
    return f"${value:,.2f}" if value < 1000 else f"${value:,.0f}"


def line(est, item: str, region: str = PRIMARY):
    matches = [candidate for candidate in est.lines if candidate.item == item and candidate.region == region]
    assert len(matches) == 1, f"{item} [{region}]: {[c.key for c in est.lines]}"
    return matches[0]


def test_the_baseline_matches_hand_computed_figures():
    est = estimate(small_graph())
    # Each figure by hand: quantity x the table's price for eu-west-1 (eu-central-1 for DR).
    assert line(est, "NAT gateway hours").cost == pytest.approx(2 * MONTH * 0.048)           # 70.08
    assert line(est, "NAT gateway GB processed").cost == pytest.approx(2 * 100 * 0.048)     # 9.60, assumed
    assert line(est, "NAT gateway GB processed").assumed
    assert not line(est, "NAT gateway hours").assumed
    assert line(est, "EKS control plane hours").cost == pytest.approx(MONTH * 0.10)        # 73.00
    assert line(est, "m7g.large node hours (node group)").cost == pytest.approx(3 * MONTH * 0.0892)
    assert line(est, "node root volume GB-months").cost == pytest.approx(3 * 20 * 0.088)
    assert line(est, "Aurora Serverless v2 ACU-hours (min ACU)").cost == pytest.approx(2 * 0.5 * MONTH * 0.13)
    assert line(est, "Aurora storage GB-months").cost == pytest.approx(100 * 0.11)
    assert line(est, "cache.t4g.small node hours").cost == pytest.approx(MONTH * 0.036)
    # I/O-Optimized storage bills no I/O: no line for it.
    assert not [c for c in est.lines if c.item.startswith("Aurora I/O")]
    # The DR region's share is shown apart: its NAT gateway, the table replica's writes and storage.
    dr = MONTH * 0.052 + 100 * 0.052 + 20 * 0.7625 + 10 * 0.306
    assert est.dr_monthly == pytest.approx(dr)
    assert est.monthly == pytest.approx(sum(c.cost for c in est.lines))
    assert est.by_region()[PRIMARY] == pytest.approx(est.monthly - dr)


def test_valkey_is_priced_below_redis_and_a_global_secondary_inherits_the_node_type():
    graph = small_graph(
        res("aws:elasticache/replicationGroup:ReplicationGroup", "vk", replicationGroupId="vk",
            nodeType="cache.r7g.large", numCacheClusters=3, engine="valkey"),
        res("aws:elasticache/globalReplicationGroup:GlobalReplicationGroup", "vk-global",
            primaryReplicationGroupId="vk"),
        res("aws:elasticache/replicationGroup:ReplicationGroup", "dr-vk", region=DR, numCacheClusters=3,
            globalReplicationGroupId="vk-global-id"),
    )
    est = estimate(graph)
    assert line(est, "cache.r7g.large node hours (Valkey, -20%)").cost == pytest.approx(3 * MONTH * 0.243 * 0.8)
    assert line(est, "cache.r7g.large node hours (Valkey, -20%)", DR).cost == pytest.approx(3 * MONTH * 0.251 * 0.8)


def test_waf_rules_keys_and_log_retention_come_from_the_graph():
    rules = [{"name": "rate", "statement": {"rateBasedStatement": {}}},
             {"name": "bots", "statement": {"managedRuleGroupStatement": {"name": "AWSManagedRulesBotControlRuleSet"}}}]
    graph = small_graph(res("aws:wafv2/webAcl:WebAcl", "waf", rules=rules),
                        res("aws:kms/key:Key", "key-a"), res("aws:kms/replicaKey:ReplicaKey", "key-a-dr", region=DR),
                        res("aws:cloudwatch/logGroup:LogGroup", "short", retentionInDays=30),
                        res("aws:cloudwatch/logGroup:LogGroup", "long", retentionInDays=365))
    est = estimate(graph)
    assert line(est, "WAF web ACL-months").cost == pytest.approx(5.0)
    assert line(est, "WAF rule-months").cost == pytest.approx(2 * 1.0)
    assert line(est, "WAF Bot Control subscription-months").cost == pytest.approx(10.0)
    assert line(est, "WAF Bot Control requests (million)").cost == pytest.approx(100 * 1.00)
    assert line(est, "KMS key-months").cost == pytest.approx(1.0)
    assert line(est, "KMS key-months", DR).cost == pytest.approx(1.0)
    # Storage at steady state: 5 GB a month kept 30 days, and kept 365 days.
    assert line(est, "CloudWatch Logs GB-months stored").quantity == pytest.approx(5 * 30 / 30.4 + 5 * 365 / 30.4)


def _k8s(service: str, min_replicas: int, cpu: str) -> list[Resource]:
    return [
        res("kubernetes:apps/v1:Deployment", f"{service}-deployment", region=None, metadata={"name": service},
            spec={"template": {"spec": {"containers": [{"resources": {"requests": {"cpu": cpu}}}]}}}),
        res("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", f"{service}-hpa", region=None,
            spec={"minReplicas": min_replicas, "scaleTargetRef": {"name": service}}),
    ]


def black_friday() -> EventPlan:
    start = datetime(2026, 11, 27, 6, tzinfo=UTC)
    event = PeakEvent(name="black-friday", start=start, end=start + timedelta(hours=72), lead=timedelta(hours=6),
                      multiplier=5)
    return EventPlan(
        event=event, warm_at=start - timedelta(hours=6), release_at=event.end + timedelta(hours=6),
        services={"storefront": ServicePeak("storefront", peak_rps=5000, min_replicas=20, vcpu=20, memory_gib=20)},
        headroom_vcpu=4, headroom_memory_gib=4, nodes=11, aurora_min_acu=4, aurora_readers=3,
        dynamodb_warm={"carts": (1000, 200)}, alb_lcu=100, cache_nodes=5)


def test_a_peak_event_adds_nodes_acus_requests_and_lcus_over_its_window():
    graph = small_graph(*_k8s("storefront", 6, "1"))
    cost = event_cost(black_friday(), graph)
    assert cost.hours == 84  # 6 h warm-up + 72 h event + 6 h cool-down
    by_item = {c.item: c for c in cost.lines}
    # 20 vCPUs at peak - 6 at baseline + 4 of headroom = 18; 1.7 usable vCPUs per m7g.large.
    nodes = by_item["m7g.large node hours (11 nodes for 18 vCPUs)"]
    assert nodes.cost == pytest.approx(11 * 84 * 0.0892)
    # Aurora: min 0.5 -> 4 ACU on both instances, and 2 readers added (3 wanted, 1 there).
    assert by_item["Aurora ACU-hours (min 0.5->4 ACU x 2)"].cost == pytest.approx(3.5 * 2 * 84 * 0.13)
    assert by_item["Aurora ACU-hours (+2 readers at 4 ACU)"].cost == pytest.approx(2 * 4 * 84 * 0.13)
    # DynamoDB at the warmed rates for the 72 h of the event, replicated writes in the DR region.
    seconds = 72 * 3600
    assert by_item["DynamoDB read units (million)"].cost == pytest.approx(1000 * seconds / 1e6 * 0.1413)
    assert by_item["DynamoDB write units (million)"].cost == pytest.approx(200 * seconds / 1e6 * 0.7065)
    replicated = by_item["DynamoDB replicated write units (million)"]
    assert replicated.region == DR and replicated.cost == pytest.approx(200 * seconds / 1e6 * 0.7625)
    assert by_item["ALB reserved LCU-hours (100 LCUs)"].cost == pytest.approx(100 * 84 * 0.008)
    assert cost.extra == pytest.approx(sum(c.cost for c in cost.lines))
    # The cache is not scheduled: said, not priced.
    assert any("cache needs 5 nodes" in note for note in cost.notes)


def test_an_event_below_the_baseline_adds_nothing_for_that_layer():
    graph = small_graph(*_k8s("storefront", 6, "1"))
    plan = dataclasses.replace(black_friday(), services={
        "storefront": ServicePeak("storefront", peak_rps=10, min_replicas=6, vcpu=6, memory_gib=6)},
        headroom_vcpu=0, aurora_min_acu=0.5, aurora_readers=1, dynamodb_warm={}, alb_lcu=0, cache_nodes=1)
    cost = event_cost(plan, graph)
    assert cost.lines == () and cost.extra == 0 and cost.notes == ()


def test_comparing_two_graphs_gives_the_delta_by_line_item():
    before = estimate(small_graph())
    after = estimate(small_graph(res("aws:ec2/natGateway:NatGateway", "nat-2")))
    deltas = {d.key: d.delta for d in compare(before, after)}
    assert deltas == pytest.approx({f"NAT gateway hours [{PRIMARY}]": MONTH * 0.048,
                                    f"NAT gateway GB processed [{PRIMARY}]": 100 * 0.048})
    assert compare(before, before) == []
    rows = render_compare(before, after)
    assert f"prices of {PRICES_DATE}" in rows[0]
    assert re.search(r"NAT gateway hours +eu-west-1 +\$105\.12 +\+\$35\.04$", "\n".join(rows), re.M)
    assert rows[-1] == f"  total: {_m(before.monthly)} -> {_m(after.monthly)} (+$39.84)"
    assert max(len(row) for row in rows) <= 80


def test_the_text_prints_the_date_the_assumptions_and_each_event():
    graph = small_graph(*_k8s("storefront", 6, "1"))
    text = "\n".join(render_text(estimate(graph, [black_friday()])))
    assert f"prices of {PRICES_DATE}" in text
    assert "black-friday: 2026-11-27 00:00 -> 2026-11-30 12:00 UTC (84 h): +$" in text
    assert "m7g.large node hours (11 nodes for 18 vCPUs)" in text
    for key in ASSUMPTIONS:
        assert key in text
    assert "no peak events planned" in "\n".join(render_text(estimate(graph, None)))
    assert max(len(row) for row in render_text(estimate(graph, [black_friday()]))) <= 80


def test_the_plan_summary_has_a_cost_line():
    graph = small_graph()
    console = make_console(width=100)
    text = "\n".join(row.plain for row in summary_lines(graph, None, [], console))
    est = estimate(graph)
    assert headline(est) in text
    assert re.search(rf"cost +~\$[\d,.]+/month baseline \(prices of {PRICES_DATE}\), DR region \$[\d,.]+", text)


def test_every_price_is_dated_sourced_and_covers_the_three_regions():
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", PRICES_DATE)
    for key, entry in PRICES.items():
        assert entry.source.startswith("https://aws.amazon.com/"), key
        assert set(REGIONS) <= set(entry.by_region), key
        assert all(value > 0 for value in entry.by_region.values()), key


def test_compare_cli_prints_json_with_the_delta(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(small_graph().dumps())
    b.write_text(small_graph(res("aws:eks/cluster:Cluster", "eks-2")).dumps())
    assert main(["cost", "--compare", str(a), str(b), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["pricesDate"] == PRICES_DATE and data["currency"] == "USD"
    assert data["delta"] == pytest.approx(73.0)
    assert data["lines"] == [{"item": f"EKS control plane hours [{PRIMARY}]", "before": 73.0, "after": 146.0,
                              "delta": 73.0}]
    assert main(["cost", "--compare", str(a), str(tmp_path / "missing.json")]) == EXIT_BAD_INPUT


def test_cost_cli_for_prod_prints_json_with_the_baseline_the_dr_share_and_events(capsys, monkeypatch):
    import blueprint.__main__ as cli

    monkeypatch.setattr(cli, "plan_events", lambda config: [black_friday()])
    assert main(["cost", "prod", "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"stack", "region", "drRegion", "currency", "pricesDate", "baseline", "events",
                         "eventsPlanned", "assumptions", "notPriced", "unpriced"}
    assert data["unpriced"] == []
    assert data["pricesDate"] == PRICES_DATE and data["drRegion"] == DR
    baseline = data["baseline"]
    assert baseline["monthly"] == pytest.approx(sum(row["monthly"] for row in baseline["lines"]), abs=0.5)
    assert 0 < baseline["drRegion"] < baseline["monthly"]
    assert baseline["byRegion"][DR] == baseline["drRegion"]
    row = baseline["lines"][0]
    assert set(row) == {"item", "priceKey", "region", "quantity", "unitPrice", "unit", "monthly", "approximate",
                        "assumed", "resources"}
    # Prod's graph: 3 NAT gateways per region, 3 + 1 Aurora instances at min 2 ACU.
    nat = [r for r in baseline["lines"] if r["item"] == "NAT gateway hours"]
    assert {r["region"]: r["quantity"] for r in nat} == {PRIMARY: 3 * MONTH, DR: 3 * MONTH}
    acu = {r["region"]: r["quantity"] for r in baseline["lines"] if r["priceKey"] == "aurora.acu.hour"}
    assert acu == {PRIMARY: 3 * 2 * MONTH, DR: 1 * 2 * MONTH}
    [event] = data["events"]
    assert event["name"] == "black-friday" and event["hours"] == 84 and event["extra"] > 0


def test_a_type_the_table_has_no_price_for_is_listed_not_a_crash():
    graph = small_graph(res("aws:eks/nodeGroup:NodeGroup", "odd", instanceTypes=["x9z.huge"],
                            scalingConfig={"desiredSize": 2}))
    est = estimate(graph)
    assert est.unpriced == ("x9z.huge node hours (node group) [eu-west-1]: no price 'ec2.x9z.huge.hour' in "
                            "blueprint/prices.py",)
    assert "ec2.x9z.huge.hour" in "\n".join(render_text(est))
    # The rest is still priced, the same as without the odd group (but for its root volumes).
    assert est.monthly == pytest.approx(estimate(small_graph()).monthly + 2 * 20 * 0.088)


def test_cost_help_describes_every_option_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["cost", "--help"])
    out = capsys.readouterr().out
    for option in ("--json", "--compare"):
        assert option in out
    assert "exit codes:\n  0  the estimate was printed" in out


@pytest.mark.parametrize("argv", [["cost"], ["cost", "prod", "--compare", "a.json", "b.json"]])
def test_cost_needs_a_stack_or_two_graphs_not_both(argv, capsys):
    assert main(argv) == EXIT_BAD_INPUT
    assert "error: give a stack" in capsys.readouterr().err


def test_compare_cli_text_names_the_date_and_the_change(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(small_graph().dumps())
    b.write_text(small_graph(res("aws:eks/cluster:Cluster", "eks-2")).dumps())
    assert main(["cost", "--compare", str(a), str(b)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"prices of {PRICES_DATE}" in out
    assert re.search(r"EKS control plane hours +eu-west-1 +\$146\.00 +\+\$73\.00", out)


def test_the_markdown_summary_has_the_same_cost_line():
    from blueprint.markdown import plan_markdown

    graph = small_graph()
    assert f"| cost | {headline(estimate(graph))} (`blueprint cost test`) |" in plan_markdown(graph, None)
