"""Deterministic, realistic mocks for running the real program offline.

Outputs look like AWS's (``vpc-0a1b…`` ids, ARNs that carry the account and the region the
resource lives in) so that cross-references resolve into values a reader recognises, and
they are a pure function of the resource's URN, so two runs of a stack give the same graph.
An invoke the mocks do not know raises: a new data-source call must be noticed and mocked
here on purpose, never silently answered with nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, MockResourceArgs

#: The account every mocked ARN carries: AWS's documentation example account.
ACCOUNT_ID = "123456789012"
PARTITION = "aws"

# EC2-style ids: the prefix AWS gives each resource kind.
_ID_PREFIXES: dict[str, str] = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "sgr",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "sgr",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
}

_AZ_LETTERS = "abcdef"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass
class RegisteredResource:
    """What the engine was asked to register, as the monitor saw it."""

    urn: str
    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]
    id: str | None
    parent: str | None
    provider: str | None
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    aliases: list[str] = field(default_factory=list)
    """Every earlier URN the engine would match this resource to: its own alias specs and,
    as the engine derives them, those inherited from its parent's aliases."""


ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def engine_urn(stack: str, project: str, parent: str | None, type_: str, name: str) -> str:
    """The URN the Pulumi engine gives a resource: its parent's whole type chain, then its own
    type (the root stack's type is left out, as the engine does for top-level resources).

    Pulumi's own mock monitor keeps only the parent's last type, so two resources the engine
    would tell apart could share a URN, and a re-parenting that changes every real URN below
    it would look like no change at all offline.
    """
    if parent:
        chain = parent.split("::")[2]
        if chain != ROOT_STACK_TYPE:
            type_ = f"{chain}${type_}"
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every ``RegisterResource`` request: the parent, the
    dependencies and the protect flag live in the request, not in what mocks are shown."""

    def __init__(self, mocks: pulumi.runtime.Mocks):
        super().__init__(mocks)
        self.registrations: list[RegisteredResource] = []
        self._aliases: dict[str, list[str]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        return engine_urn(pulumi.get_stack(), pulumi.get_project(), parent, type_, name)

    def _resolve_aliases(self, request) -> list[str]:
        """The earlier URNs of a resource, derived from alias specs as the engine does."""
        stack, project = pulumi.get_stack(), pulumi.get_project()
        parent_aliases = self._aliases.get(request.parent, []) if request.parent else []
        found: list[str] = []
        # Own alias specs, each under its stated parent (or the current one and its aliases).
        for alias in request.aliases:
            if alias.WhichOneof("alias") == "urn":
                found.append(alias.urn)
                continue
            spec = alias.spec
            type_, name = spec.type or request.type, spec.name or request.name
            if spec.noParent:
                parents: list[str | None] = [None]
            elif spec.parentUrn:
                parents = [spec.parentUrn, *self._aliases.get(spec.parentUrn, [])]
            else:
                parents = [request.parent or None, *parent_aliases]
            found += [engine_urn(spec.stack or stack, spec.project or project, p, type_, name) for p in parents]
        found += list(request.aliasURNs)
        # A child of an aliased parent keeps its name and type under each of the parent's
        # earlier URNs.
        found += [engine_urn(stack, project, p, request.type, request.name) for p in parent_aliases]
        return list(dict.fromkeys(found))

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type == ROOT_STACK_TYPE:
            return response
        aliases = self._resolve_aliases(request)
        self._aliases[response.urn] = aliases
        provider = request.provider.split("::", 4)
        self.registrations.append(RegisteredResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            inputs=rpc.deserialize_properties(request.object),
            id=response.id or None,
            parent=request.parent or None,
            # A provider reference reads "<urn>::<id>"; the URN is what names it.
            provider="::".join(provider[:4]) if request.provider else None,
            dependencies=sorted(set(request.dependencies)),
            property_dependencies={
                key: sorted(set(deps.urns)) for key, deps in request.propertyDependencies.items()
                if deps.urns
            },
            protect=bool(request.protect),
            aliases=aliases,
        ))
        return response


InvokeHandler = Callable[[Mapping[str, Any], str], dict[str, Any]]


class RetailMocks(pulumi.runtime.Mocks):
    """Outputs for every resource type and the invokes the program makes."""

    def __init__(self, default_region: str):
        self.default_region = default_region
        self._invokes: dict[str, InvokeHandler] = {
            "aws:index/getAvailabilityZones:getAvailabilityZones": self._availability_zones,
            "aws:index/getCallerIdentity:getCallerIdentity": self._caller_identity,
            "aws:index/getPartition:getPartition": self._partition,
            "aws:index/getRegion:getRegion": self._region_info,
            "aws:ec2/getManagedPrefixList:getManagedPrefixList": self._managed_prefix_list,
            "aws:route53/getZone:getZone": self._route53_zone,
        }

    # -- invokes -------------------------------------------------------------------------

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        handler = self._invokes.get(args.token)
        if handler is None:
            raise NotImplementedError(
                f"the offline mocks do not know the invoke {args.token!r}; "
                "add a realistic answer for it in blueprint/mocks.py"
            )
        region = args.args.get("region") or self.default_region
        return handler(args.args, region), []

    def _availability_zones(self, _: Mapping[str, Any], region: str) -> dict[str, Any]:
        return {
            "id": region,
            "region": region,
            "names": [f"{region}{letter}" for letter in _AZ_LETTERS],
            "zoneIds": [f"{region[:2]}{region.split('-')[1][:1]}{region[-1]}-az{i}"
                        for i in range(1, len(_AZ_LETTERS) + 1)],
            "groupNames": [region] * len(_AZ_LETTERS),
        }

    def _caller_identity(self, _: Mapping[str, Any], region: str) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID,
            "accountId": ACCOUNT_ID,
            "arn": f"arn:{PARTITION}:sts::{ACCOUNT_ID}:assumed-role/deployer/pulumi",
            "userId": "AROAEXAMPLEDEPLOYER:pulumi",
        }

    def _partition(self, _: Mapping[str, Any], region: str) -> dict[str, Any]:
        return {"id": PARTITION, "partition": PARTITION, "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws"}

    def _region_info(self, _: Mapping[str, Any], region: str) -> dict[str, Any]:
        return {"id": region, "name": region, "region": region,
                "endpoint": f"ec2.{region}.amazonaws.com", "description": region}

    def _managed_prefix_list(self, args: Mapping[str, Any], region: str) -> dict[str, Any]:
        name = args.get("name") or "com.amazonaws.global.cloudfront.origin-facing"
        list_id = f"pl-{_digest(name, region)[:8]}"
        return {"id": list_id, "name": name, "addressFamily": "IPv4", "maxEntries": 55,
                "arn": f"arn:{PARTITION}:ec2:{region}:aws:prefix-list/{list_id}", "entries": [], "ownerId": "AWS",
                "region": region, "tags": {}, "version": 1}

    def _route53_zone(self, args: Mapping[str, Any], region: str) -> dict[str, Any]:
        name = str(args.get("name") or "example.com").rstrip(".")
        zone_id = f"Z{_digest('zone', name)[:20].upper()}"
        arn = f"arn:{PARTITION}:route53:::hostedzone/{zone_id}"
        return {"id": zone_id, "zoneId": zone_id, "name": name, "arn": arn,
                "privateZone": False, "nameServers": ["ns-1.awsdns-01.org", "ns-2.awsdns-02.net"],
                "resourceRecordSetCount": 2, "callerReference": name, "comment": "", "tags": {},
                "linkedServiceDescription": "", "linkedServicePrincipal": "", "primaryNameServer": "ns-1.awsdns-01.org",
                "enablePrivateZone": False}

    # -- resources -----------------------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        inputs = dict(args.inputs)
        if args.typ.startswith("random:"):
            # A stable stand-in for the random value; real runs draw a new one once and keep it.
            length = int(inputs.get("length") or 32)
            return f"{args.name}-id", {**inputs, "result": _digest(args.typ, args.name)[:length]}
        if not args.typ.startswith("aws:"):
            # Providers and Kubernetes objects: echo the inputs, named as asked.
            return f"{args.name}-id", inputs
        region = inputs.get("region") or self.default_region
        digest = _digest(args.typ, args.name, region)
        physical = self._physical_name(args, inputs, digest)
        resource_id = self._resource_id(args.typ, physical, digest, inputs)
        outputs = {**inputs, "id": resource_id, "region": region,
                   "tagsAll": dict(inputs.get("tags") or {})}
        outputs.setdefault("name", physical)
        outputs["arn"] = self._arn(args.typ, region, resource_id, physical, digest)
        outputs.update(self._extras(args.typ, inputs, region, resource_id, digest))
        return resource_id, outputs

    @staticmethod
    def _physical_name(args: MockResourceArgs, inputs: Mapping[str, Any], digest: str) -> str:
        for key in (_NAME_INPUTS.get(args.typ, "name"), "name"):
            if isinstance(inputs.get(key), str):
                return inputs[key]
        for key in ("namePrefix", "bucketPrefix", "clusterIdentifierPrefix", "identifierPrefix"):
            if isinstance(inputs.get(key), str):
                return inputs[key] + digest[:8]
        # Pulumi's auto-naming: the logical name plus a random suffix (here a stable one).
        return f"{args.name}-{digest[:7]}"

    @staticmethod
    def _resource_id(typ: str, physical: str, digest: str, inputs: Mapping[str, Any]) -> str:
        prefix = _ID_PREFIXES.get(typ)
        if prefix is not None:
            return f"{prefix}-{digest[:17]}"
        if typ == "aws:kms/key:Key" and inputs.get("multiRegion"):
            # AWS gives multi-Region keys (and their replicas) ids of this shape.
            return f"mrk-{digest[:32]}"
        if typ == "aws:kms/key:Key":
            return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
        return physical

    @staticmethod
    def _arn(typ: str, region: str, resource_id: str, physical: str, digest: str) -> str:
        service, _, rest = typ.removeprefix("aws:").partition("/")
        kind = rest.split(":", 1)[0].lower()
        template = _ARN_FORMATS.get(typ)
        if template is not None:
            return template.format(partition=PARTITION, region=region, account=ACCOUNT_ID, id=resource_id,
                                   name=physical, suffix=digest[:16],
                                   scope="global" if region == "us-east-1" else "regional")
        if service == "iam":
            return f"arn:{PARTITION}:iam::{ACCOUNT_ID}:{kind}/{physical}"
        if service == "s3":
            return f"arn:{PARTITION}:s3:::{physical}"
        if service in ("ec2", "vpc"):
            return f"arn:{PARTITION}:ec2:{region}:{ACCOUNT_ID}:{kind}/{resource_id}"
        return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT_ID}:{kind}/{physical}"

    @staticmethod
    def _extras(typ: str, inputs: Mapping[str, Any], region: str, resource_id: str,
                digest: str) -> dict[str, Any]:
        handler = _EXTRAS.get(typ)
        return handler(inputs, region, resource_id, digest) if handler else {}


# The input that carries each type's physical name, where it is not `name`.
_NAME_INPUTS: dict[str, str] = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:elasticache/replicationGroup:ReplicationGroup": "replicationGroupId",
    "aws:elasticache/user:User": "userId",
    "aws:elasticache/userGroup:UserGroup": "userGroupId",
    "aws:sqs/queue:Queue": "name",
}

_ELB = "arn:{partition}:elasticloadbalancing:{region}:{account}:"

_ARN_FORMATS: dict[str, str] = {
    "aws:kms/key:Key": "arn:{partition}:kms:{region}:{account}:key/{id}",
    "aws:kms/alias:Alias": "arn:{partition}:kms:{region}:{account}:{name}",
    "aws:cloudwatch/logGroup:LogGroup": "arn:{partition}:logs:{region}:{account}:log-group:{name}",
    "aws:rds/cluster:Cluster": "arn:{partition}:rds:{region}:{account}:cluster:{name}",
    "aws:rds/clusterInstance:ClusterInstance": "arn:{partition}:rds:{region}:{account}:db:{name}",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "arn:{partition}:rds:{region}:{account}:cluster-pg:{name}",
    "aws:rds/subnetGroup:SubnetGroup": "arn:{partition}:rds:{region}:{account}:subgrp:{name}",
    "aws:dynamodb/table:Table": "arn:{partition}:dynamodb:{region}:{account}:table/{name}",
    "aws:sns/topic:Topic": "arn:{partition}:sns:{region}:{account}:{name}",
    "aws:elasticache/replicationGroup:ReplicationGroup":
        "arn:{partition}:elasticache:{region}:{account}:replicationgroup:{name}",
    "aws:elasticache/user:User": "arn:{partition}:elasticache:{region}:{account}:user:{name}",
    "aws:elasticache/userGroup:UserGroup": "arn:{partition}:elasticache:{region}:{account}:usergroup:{name}",
    "aws:elasticache/subnetGroup:SubnetGroup": "arn:{partition}:elasticache:{region}:{account}:subnetgroup:{name}",
    "aws:secretsmanager/secret:Secret": "arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-{suffix}",
    "aws:eks/cluster:Cluster": "arn:{partition}:eks:{region}:{account}:cluster/{name}",
    "aws:eks/nodeGroup:NodeGroup": "arn:{partition}:eks:{region}:{account}:nodegroup/{name}/{suffix}",
    "aws:sqs/queue:Queue": "arn:{partition}:sqs:{region}:{account}:{name}",
    "aws:cloudwatch/eventRule:EventRule": "arn:{partition}:events:{region}:{account}:rule/{name}",
    "aws:lb/loadBalancer:LoadBalancer": _ELB + "loadbalancer/app/{name}/{suffix}",
    "aws:lb/targetGroup:TargetGroup": _ELB + "targetgroup/{name}/{suffix}",
    "aws:lb/listener:Listener": _ELB + "listener/app/{name}/{suffix}",
    "aws:acm/certificate:Certificate": "arn:{partition}:acm:{region}:{account}:certificate/{suffix}",
    "aws:cloudfront/distribution:Distribution": "arn:{partition}:cloudfront::{account}:distribution/{id}",
    "aws:wafv2/webAcl:WebAcl": "arn:{partition}:wafv2:{region}:{account}:{scope}/webacl/{name}/{suffix}",
    "aws:appautoscaling/policy:Policy":
        "arn:{partition}:autoscaling:{region}:{account}:scalingPolicy:{suffix}:resource/rds/{name}",
}


def _eip(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    octets = [int(digest[i:i + 2], 16) for i in range(0, 4, 2)]
    return {"publicIp": f"203.0.{octets[0]}.{octets[1]}", "allocationId": resource_id}


def _bucket(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    return {"bucket": resource_id, "bucketDomainName": f"{resource_id}.s3.amazonaws.com",
            "bucketRegionalDomainName": f"{resource_id}.s3.{region}.amazonaws.com",
            "hostedZoneId": "Z1BKCTXD74EZPE"}


def _rds_cluster(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    host = f"{resource_id}.cluster-{digest[:12]}.{region}.rds.amazonaws.com"
    outputs: dict[str, Any] = {
        "clusterResourceId": f"cluster-{digest[:26].upper()}",
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-"),
        "port": inputs.get("port", 5432),
    }
    if inputs.get("manageMasterUserPassword"):
        outputs["masterUserSecrets"] = [{
            "secretArn": f"arn:{PARTITION}:secretsmanager:{region}:{ACCOUNT_ID}:secret:rds!cluster-{digest[:8]}",
            "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"),
            "secretStatus": "active",
        }]
    return outputs


def _rds_instance(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    return {"endpoint": f"{resource_id}.{digest[:12]}.{region}.rds.amazonaws.com",
            "dbiResourceId": f"db-{digest[:26].upper()}"}


def _rds_proxy(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    # A proxy's ARN ends in its resource id (prx-…), which is what rds-db:connect names; its
    # endpoint carries the name and a per-account token.
    name = inputs.get("name") or resource_id
    return {"arn": f"arn:{PARTITION}:rds:{region}:{ACCOUNT_ID}:db-proxy:prx-{digest[:17]}",
            "endpoint": f"{name}.proxy-{digest[17:29]}.{region}.rds.amazonaws.com"}


def _dynamodb_table(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    if not inputs.get("streamEnabled"):
        return {}
    label = "2026-01-01T00:00:00.000"
    return {"streamLabel": label,
            "streamArn": f"arn:{PARTITION}:dynamodb:{region}:{ACCOUNT_ID}:table/{resource_id}/stream/{label}"}


def _replication_group(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    host = f"{resource_id}.{digest[:6]}.{region[:2]}{region.split('-')[1][:1]}{region[-1]}.cache.amazonaws.com"
    return {"primaryEndpointAddress": f"master.{host}", "readerEndpointAddress": f"replica.{host}",
            "port": inputs.get("port", 6379)}


_PLACEHOLDER_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1PQ0sKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo="


def cluster_security_group_id(name: str, region: str) -> str:
    """The security group EKS creates for the cluster named ``name`` (logical name), as mocked."""
    return _cluster_security_group(_digest("aws:eks/cluster:Cluster", name, region))


def _cluster_security_group(digest: str) -> str:
    return f"sg-{digest[17:34]}"


def _eks_cluster(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    host = f"{digest[:32].upper()}.gr7.{region}.eks.amazonaws.com"
    vpc = dict(inputs.get("vpcConfig") or {})
    vpc.update({"clusterSecurityGroupId": _cluster_security_group(digest), "vpcId": "vpc-mock"})
    return {
        "endpoint": f"https://{host}",
        # base64 of a placeholder PEM: enough for a kubeconfig to parse.
        "certificateAuthority": {"data": _PLACEHOLDER_CA},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{digest[:32].upper()}"}]}],
        "vpcConfig": vpc,
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "clusterId": digest[:36],
    }


def _replica_key(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    primary = str(inputs.get("primaryKeyArn") or "")
    key_id = primary.rsplit("/", 1)[1] if "/" in primary else resource_id
    return {"keyId": key_id, "arn": f"arn:{PARTITION}:kms:{region}:{ACCOUNT_ID}:key/{key_id}"}


def _load_balancer(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    name = inputs.get("name") or resource_id
    return {"dnsName": f"{name}-{int(digest[:8], 16)}.{region}.elb.amazonaws.com", "zoneId": "Z32O12XQLNTSW2",
            "arnSuffix": f"app/{name}/{digest[:16]}"}


def _certificate(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    names = [inputs.get("domainName"), *(inputs.get("subjectAlternativeNames") or [])]
    return {"domainValidationOptions": [
        {"domainName": name, "resourceRecordName": f"_{_digest(name)[:32]}.{name}.",
         "resourceRecordType": "CNAME", "resourceRecordValue": f"_{_digest('v', name)[:32]}.acm-validations.aws."}
        for name in names if name], "status": "ISSUED"}


def _distribution(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    return {"domainName": f"d{digest[:13]}.cloudfront.net", "hostedZoneId": "Z2FDTNDATAQYW2", "status": "Deployed"}


def _queue(inputs: Mapping[str, Any], region: str, resource_id: str, digest: str) -> dict[str, Any]:
    return {"url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{inputs.get('name') or resource_id}"}


_EXTRAS: dict[str, Callable[[Mapping[str, Any], str, str, str], dict[str, Any]]] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:ec2/launchTemplate:LaunchTemplate": lambda inputs, region, resource_id, digest: {
        "latestVersion": 1, "defaultVersion": 1},
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:acm/certificate:Certificate": _certificate,
    "aws:cloudfront/distribution:Distribution": _distribution,
    "aws:sqs/queue:Queue": _queue,
    "aws:kms/key:Key": lambda inputs, region, resource_id, digest: {"keyId": resource_id},
    # A replica shares its primary's key id (mrk-...); only the region in its ARN differs.
    "aws:kms/replicaKey:ReplicaKey": _replica_key,
    "aws:ec2/vpc:Vpc": lambda inputs, region, resource_id, digest: {
        "defaultSecurityGroupId": f"sg-{digest[17:34]}",
        "mainRouteTableId": f"rtb-{digest[17:34]}",
        "defaultNetworkAclId": f"acl-{digest[17:34]}",
    },
    "aws:ec2/eip:Eip": _eip,
    "aws:iam/role:Role": lambda inputs, region, resource_id, digest: {"uniqueId": f"AROA{digest[:17].upper()}"},
    # IAM names an OIDC provider by its issuer's host (and path): one per issuer per account.
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda inputs, region, resource_id, digest: {
        "arn": f"arn:{PARTITION}:iam::{ACCOUNT_ID}:oidc-provider/{str(inputs['url']).removeprefix('https://')}"},
    "aws:s3/bucket:Bucket": _bucket,
    "aws:rds/cluster:Cluster": _rds_cluster,
    "aws:rds/clusterInstance:ClusterInstance": _rds_instance,
    "aws:rds/proxy:Proxy": _rds_proxy,
    "aws:dynamodb/table:Table": _dynamodb_table,
    "aws:elasticache/replicationGroup:ReplicationGroup": _replication_group,
}
