"""Which resource types are taggable, as the pulumi-aws SDK says (``policies._taggable``)."""

from __future__ import annotations

import pytest

from policies._taggable import is_taggable, parse_aws_token


@pytest.mark.parametrize(
    "token",
    [
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:kms/key:Key",
        "aws:ec2/flowLog:FlowLog",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        # A Python keyword as module: the SDK module is pulumi_aws.lambda_.
        "aws:lambda/function:Function",
    ],
)
def test_taggable_types(token):
    assert is_taggable(token)


@pytest.mark.parametrize(
    "token",
    [
        "aws:kms/alias:Alias",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/vpcEndpointRouteTableAssociation:VpcEndpointRouteTableAssociation",
        "pulumi:providers:aws",
        "aws:index/provider:Provider",
        "aws:nosuchmodule/thing:Thing",
        "aws:ec2/noSuchThing:NoSuchThing",
        "aws:ec2/getVpc:getVpc",
        "aws:os.path/join:join",
        "retail:foundation:Network",
        "not a token",
    ],
)
def test_not_taggable_types(token):
    assert not is_taggable(token)


def test_token_parsing():
    assert parse_aws_token("aws:ec2/vpc:Vpc") == ("pulumi_aws.ec2", "Vpc")
    assert parse_aws_token("aws:index/provider:Provider") == ("pulumi_aws", "Provider")
    assert parse_aws_token("aws:lambda/function:Function") == ("pulumi_aws.lambda_", "Function")
    assert parse_aws_token("pulumi:providers:aws") is None


def test_taggable_answer_is_cached():
    is_taggable.cache_clear()
    is_taggable("aws:ec2/subnet:Subnet")
    is_taggable("aws:ec2/subnet:Subnet")
    assert is_taggable.cache_info().hits == 1
