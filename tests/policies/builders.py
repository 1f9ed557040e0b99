"""Props builders shared by the pack tests of services that meet in one stack.

EKS and the Kubernetes objects on it (test_eks.py, test_kubernetes.py), and the edge, where
CloudFront, the ALB and their WAF web ACLs are checked together (test_cloudfront.py,
test_elb.py, test_waf.py). Builders only one test module uses stay in that module.
"""

from __future__ import annotations

import json

from components.common.aws_limits import SUPPORTED_KUBERNETES_VERSIONS

# --- EKS ------------------------------------------------------------------------------------

CLUSTER = "aws:eks/cluster:Cluster"
ADDON = "aws:eks/addon:Addon"

KEY_ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VERSION = SUPPORTED_KUBERNETES_VERSIONS[0]


def cluster_props(tags, **overrides):
    props = {
        "version": VERSION,
        "vpcConfig": {"endpointPublicAccess": False, "endpointPrivateAccess": True,
                      "subnetIds": ["subnet-1", "subnet-2"]},
        "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY_ARN}},
        "enabledClusterLogTypes": ["api", "audit", "authenticator"],
        "accessConfig": {"authenticationMode": "API"},
        "tags": tags,
    }
    props.update(overrides)
    return props


def cni(snap, cluster, tags, values=None, name="vpc-cni"):
    values = {"enableNetworkPolicy": "true"} if values is None else values
    return snap(ADDON, f"{cluster.name}-{name}",
                {"addonName": name, "clusterName": "retail-dev",
                 "configurationValues": json.dumps(values), "tags": tags},
                property_dependencies={"clusterName": (cluster.urn,)})


# --- The edge: CloudFront, load balancers, WAF ----------------------------------------------

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
LB_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")
LISTENER_TYPES = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")
LB, LISTENER = LB_TYPES[0], LISTENER_TYPES[0]
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_RULE = "aws:wafv2/webAclRule:WebAclRule"
ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"

CERT_ARN = "arn:aws:acm:us-east-1:111122223333:certificate/abcd"
ACL_ARN = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/retail/abcd"

ALB_ORIGIN = {"originId": "alb", "domainName": "origin.shop.example.com",
              "customOriginConfig": {"httpPort": 80, "httpsPort": 443, "originProtocolPolicy": "https-only",
                                     "originSslProtocols": ["TLSv1.2"]}}
S3_ORIGIN = {"originId": "assets", "domainName": "assets.s3.eu-west-1.amazonaws.com",
             "originAccessControlId": "oac-123"}
CUSTOM_CERT = {"acmCertificateArn": CERT_ARN, "sslSupportMethod": "sni-only",
               "minimumProtocolVersion": "TLSv1.2_2021"}
DEFAULT_CERT = {"cloudfrontDefaultCertificate": True}


def distribution_props(tags, **overrides):
    props = {
        "enabled": True,
        "defaultRootObject": "index.html",
        "aliases": ["shop.example.com"],
        "origins": [ALB_ORIGIN, S3_ORIGIN],
        "defaultCacheBehavior": {"targetOriginId": "alb", "viewerProtocolPolicy": "redirect-to-https"},
        "orderedCacheBehaviors": [{"pathPattern": "/static/*", "targetOriginId": "assets",
                                   "viewerProtocolPolicy": "https-only"}],
        "loggingConfig": {"bucket": "retail-dev-logs.s3.amazonaws.com", "prefix": "cdn/"},
        "webAclId": ACL_ARN,
        "viewerCertificate": CUSTOM_CERT,
        "tags": tags,
    }
    props.update(overrides)
    return props


def lb_props(tags, **overrides):
    props = {"loadBalancerType": "application", "internal": False, "subnets": ["subnet-a", "subnet-b"],
             "securityGroups": ["sg-1"], "dropInvalidHeaderFields": True, "desyncMitigationMode": "defensive",
             "enableDeletionProtection": True,
             "accessLogs": {"bucket": "retail-dev-logs", "prefix": "alb", "enabled": True}, "tags": tags}
    props.update(overrides)
    return props


REDIRECT = [{"type": "redirect", "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"}}]
FORWARD = [{"type": "forward", "targetGroupArn": "arn:aws:elasticloadbalancing:tg"}]


def listener(snap, tags, type_=LISTENER, name="https", **props):
    return snap(type_, name, {"loadBalancerArn": "arn:lb", "tags": tags, **props})


def https_listener(snap, tags, type_=LISTENER):
    return listener(snap, tags, type_, protocol="HTTPS", port=443, certificateArn=CERT_ARN,
                    sslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", defaultActions=FORWARD)


def http_listener(snap, tags, type_=LISTENER, actions=REDIRECT):
    return listener(snap, tags, type_, name="http", protocol="HTTP", port=80, defaultActions=actions)


VISIBLE = {"cloudwatchMetricsEnabled": True, "sampledRequestsEnabled": True, "metricName": "m"}


def acl_props(tags, **overrides):
    props = {"scope": "CLOUDFRONT", "defaultAction": {"allow": {}}, "visibilityConfig": VISIBLE,
             "rules": [{"name": "common", "priority": 1, "overrideAction": {"none": {}},
                        "statement": {"managedRuleGroupStatement": {"name": "AWSManagedRulesCommonRuleSet",
                                                                    "vendorName": "AWS"}},
                        "visibilityConfig": VISIBLE}],
             "tags": tags}
    props.update(overrides)
    return props


def redact(*headers):
    return [{"singleHeader": {"name": h}} for h in headers]


def waf_logging(snap, acl, headers=("authorization", "cookie")):
    return snap(WAF_LOGGING, f"{acl.name}-logging",
                {"logDestinationConfigs": ["arn:aws:logs:us-east-1:1:log-group:aws-waf-logs-retail"],
                 "resourceArn": ACL_ARN, "redactedFields": redact(*headers)},
                property_dependencies={"resourceArn": (acl.urn,)})


def edge_stack(snap, tags, distribution_tags=None, lb_type=LB):
    acl = snap(WEB_ACL, "cdn", acl_props(tags()))
    regional = snap(WEB_ACL, "alb", acl_props(tags(), scope="REGIONAL"))
    alb = snap(lb_type, "alb", lb_props(tags()))
    return [
        snap(DISTRIBUTION, "cdn", distribution_props(distribution_tags or tags())),
        acl, waf_logging(snap, acl), regional, waf_logging(snap, regional), alb,
        snap(ASSOCIATION, "alb-waf", {"resourceArn": "arn:alb", "webAclArn": "arn:acl"},
             property_dependencies={"resourceArn": (alb.urn,), "webAclArn": (regional.urn,)}),
        https_listener(snap, tags()), http_listener(snap, tags()),
    ]
