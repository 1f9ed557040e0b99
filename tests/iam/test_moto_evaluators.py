"""The two evaluators the policy tests lean on, pinned.

moto's: what it honours and what it ignores, so that a moto upgrade that changes either shows
up here first (and the tests that work around it can be revisited). The reference evaluator's:
each IAM evaluation rule it implements, on a small document, so that the tests that use it
rest on checked ground.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from moto.iam.access_control import PermissionResult
from moto.iam.exceptions import MalformedPolicyDocument

PERMITTED, DENIED, NEUTRAL = PermissionResult.PERMITTED, PermissionResult.DENIED, PermissionResult.NEUTRAL

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "999999999999"
OBJECT = "arn:aws:s3:::bucket/key"


def doc(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="s3:GetObject", resource="arn:aws:s3:::bucket/*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="s3:*", resource="arn:aws:s3:::bucket/*", **extra):
    return {"Effect": "Deny", "Principal": "*", "Action": action, "Resource": resource, **extra}


VIA_S3 = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
INSECURE = {"Bool": {"aws:SecureTransport": "false"}}
SOMEONE = ("AWS", f"arn:aws:iam::{ACCOUNT}:role/app")


# -- moto's evaluator -----------------------------------------------------------------------

class TestMotoEvaluator:
    def test_matches_actions_and_resources_with_wildcards(self, moto_eval):
        policy = doc(allow())
        assert moto_eval(policy, "s3:GetObject", OBJECT) is PERMITTED
        assert moto_eval(policy, "s3:PutObject", OBJECT) is NEUTRAL
        assert moto_eval(policy, "s3:GetObject", "arn:aws:s3:::other/key") is NEUTRAL

    def test_honours_string_equals(self, moto_eval):
        policy = doc(allow("kms:Decrypt", "*", Condition=VIA_S3))
        assert moto_eval(policy, "kms:Decrypt", context={"kms:ViaService": "s3.eu-west-1.amazonaws.com"}) is PERMITTED
        assert moto_eval(policy, "kms:Decrypt", context={"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}) is DENIED

    def test_treats_a_missing_condition_key_as_satisfied(self, moto_eval):
        # Not AWS's rule (a missing key fails StringEquals): test the wrong value, never none.
        assert moto_eval(doc(allow("kms:Decrypt", "*", Condition=VIA_S3)), "kms:Decrypt") is PERMITTED

    @pytest.mark.parametrize("condition", [
        INSECURE,
        {"Null": {"s3:x-amz-server-side-encryption": "false"}},
        {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::mine"}},
    ], ids=["Bool", "Null", "StringNotEquals", "ArnLike"])
    def test_ignores_every_other_operator(self, moto_eval, condition):
        # A context that should make the Deny not apply: moto still reads DENIED.
        context = {"aws:SecureTransport": "true", "s3:x-amz-server-side-encryption": "aws:kms",
                   "aws:SourceArn": "arn:aws:s3:::theirs"}
        assert moto_eval(doc(deny(Condition=condition)), "s3:PutObject", OBJECT, context=context) is DENIED

    def test_reads_an_unmet_condition_as_denied_whatever_the_effect(self, moto_eval):
        wrong_service = {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}
        assert moto_eval(doc(allow("kms:Decrypt", "*", Condition=VIA_S3)), "kms:Decrypt",
                         context=wrong_service) is DENIED

    def test_checks_aws_principals(self, moto_eval):
        policy = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                      "Action": "kms:*", "Resource": "*"})
        assert moto_eval(policy, "kms:Decrypt", principal=f"arn:aws:iam::{ACCOUNT}:root") is PERMITTED
        assert moto_eval(policy, "kms:Decrypt", principal=f"arn:aws:iam::{OTHER_ACCOUNT}:root") is DENIED

    def test_cannot_check_service_principals(self, moto_eval):
        policy = doc({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                      "Action": "kms:Decrypt", "Resource": "*"})
        with pytest.raises(TypeError):
            moto_eval(policy, "kms:Decrypt", principal="logs.amazonaws.com")


# -- the reference evaluator ------------------------------------------------------------------

class TestReferenceEvaluator:
    def test_nothing_applies_is_neutral(self, ref_eval):
        assert ref_eval(doc(allow()), "s3:PutObject", OBJECT) is NEUTRAL
        assert ref_eval(doc(allow()), "s3:GetObject", "arn:aws:s3:::other/key") is NEUTRAL

    def test_an_explicit_deny_wins(self, ref_eval):
        assert ref_eval(doc(allow(), deny()), "s3:GetObject", OBJECT, principal=SOMEONE) is DENIED
        assert ref_eval(doc(deny(), allow()), "s3:GetObject", OBJECT, principal=SOMEONE) is DENIED

    def test_actions_ignore_case_resources_do_not(self, ref_eval):
        assert ref_eval(doc(allow()), "S3:getobject", OBJECT) is PERMITTED
        assert ref_eval(doc(allow()), "s3:GetObject", "arn:aws:s3:::Bucket/key") is NEUTRAL

    def test_wildcards_cover_any_run_or_one_character(self, ref_eval):
        policy = doc(allow("kms:Decrypt*", "arn:aws:s3:::b?cket/*"))
        assert ref_eval(policy, "kms:DecryptSomething", "arn:aws:s3:::bucket/a/b/c") is PERMITTED
        assert ref_eval(policy, "kms:Decrypt", "arn:aws:s3:::bracket/a") is NEUTRAL

    def test_a_positive_operator_fails_when_its_key_is_absent(self, ref_eval):
        policy = doc(allow("kms:Decrypt", "*", Condition=VIA_S3))
        assert ref_eval(policy, "kms:Decrypt") is NEUTRAL
        assert ref_eval(policy, "kms:Decrypt", context={"kms:ViaService": "s3.eu-west-1.amazonaws.com"}) is PERMITTED
        assert ref_eval(policy, "kms:Decrypt", context={"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}) is NEUTRAL

    def test_a_negated_operator_holds_when_its_key_is_absent(self, ref_eval):
        # Why a bare StringNotEquals on an upload header would refuse uploads without it.
        not_kms = {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}
        policy = doc(deny("s3:PutObject", Condition=not_kms))
        assert ref_eval(policy, "s3:PutObject", OBJECT, principal=SOMEONE) is DENIED
        assert ref_eval(policy, "s3:PutObject", OBJECT, principal=SOMEONE,
                        context={"s3:x-amz-server-side-encryption": "aws:kms"}) is NEUTRAL

    def test_null_tests_presence(self, ref_eval):
        present = doc(deny("s3:PutObject", Condition={"Null": {"s3:x-amz-server-side-encryption": "false"}}))
        header = {"s3:x-amz-server-side-encryption": "AES256"}
        assert ref_eval(present, "s3:PutObject", OBJECT, principal=SOMEONE, context=header) is DENIED
        assert ref_eval(present, "s3:PutObject", OBJECT, principal=SOMEONE) is NEUTRAL
        absent = doc(deny("s3:PutObject", Condition={"Null": {"s3:x-amz-server-side-encryption": "true"}}))
        assert ref_eval(absent, "s3:PutObject", OBJECT, principal=SOMEONE) is DENIED

    def test_values_of_a_key_are_alternatives_keys_and_operators_all_hold(self, ref_eval):
        policy = doc(allow("s3:PutObject", Condition={
            "StringEquals": {"aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": ["private", "bucket-owner-full-control"]},
            "Bool": {"aws:SecureTransport": "true"}}))
        good = {"aws:SourceAccount": ACCOUNT, "s3:x-amz-acl": "bucket-owner-full-control",
                "aws:SecureTransport": "true"}
        assert ref_eval(policy, "s3:PutObject", OBJECT, context=good) is PERMITTED
        for key, value in (("aws:SourceAccount", OTHER_ACCOUNT), ("s3:x-amz-acl", "public-read"),
                           ("aws:SecureTransport", "false")):
            assert ref_eval(policy, "s3:PutObject", OBJECT, context={**good, key: value}) is NEUTRAL, key

    def test_condition_keys_ignore_case_values_do_not(self, ref_eval):
        policy = doc(allow("kms:Decrypt", "*", Condition=VIA_S3))
        assert ref_eval(policy, "kms:Decrypt", context={"KMS:viaservice": "s3.eu-west-1.amazonaws.com"}) is PERMITTED
        assert ref_eval(policy, "kms:Decrypt", context={"kms:ViaService": "S3.eu-west-1.amazonaws.com"}) is NEUTRAL

    def test_bool_compares_the_word(self, ref_eval):
        policy = doc(deny(Condition=INSECURE))
        for value, verdict in (("false", DENIED), ("true", NEUTRAL), ("False", DENIED)):
            context = {"aws:SecureTransport": value}
            assert ref_eval(policy, "s3:GetObject", OBJECT, principal=SOMEONE, context=context) is verdict, value

    def test_arn_like_matches_component_by_component(self, ref_eval):
        pattern = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"
        policy = doc(allow("kms:Decrypt", "*", Condition={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": pattern}}))
        key = "kms:EncryptionContext:aws:logs:arn"
        ours = f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/retail/prod/app"
        assert ref_eval(policy, "kms:Decrypt", context={key: ours}) is PERMITTED
        assert ref_eval(policy, "kms:Decrypt", context={key: ours.replace(ACCOUNT, OTHER_ACCOUNT)}) is NEUTRAL
        assert ref_eval(policy, "kms:Decrypt", context={key: ours.replace("eu-west-1", "us-east-1")}) is NEUTRAL
        assert ref_eval(policy, "kms:Decrypt", context={key: "not-an-arn"}) is NEUTRAL

    def test_principals_by_kind_and_account_root(self, ref_eval):
        service = doc({"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "kms:Decrypt",
                       "Resource": "*"})
        assert ref_eval(service, "kms:Decrypt", principal=("Service", "logs.amazonaws.com")) is PERMITTED
        assert ref_eval(service, "kms:Decrypt", principal=("Service", "s3.amazonaws.com")) is NEUTRAL
        assert ref_eval(service, "kms:Decrypt", principal=SOMEONE) is NEUTRAL
        root = doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*",
                    "Resource": "*"})
        assert ref_eval(root, "kms:Decrypt", principal=SOMEONE) is PERMITTED
        assert ref_eval(root, "kms:Decrypt", principal=("AWS", f"arn:aws:iam::{OTHER_ACCOUNT}:role/app")) is NEUTRAL

    def test_a_statement_without_resource_applies_to_any(self, ref_eval):
        trust = doc({"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                     "Action": "sts:AssumeRole"})
        assert ref_eval(trust, "sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/x",
                        principal=("Service", "vpc-flow-logs.amazonaws.com")) is PERMITTED

    @pytest.mark.parametrize("statement", [
        {"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"},
        allow(Condition={"StringNotEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}),
        allow(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}),
        allow(Condition={"NumericLessThan": {"s3:max-keys": "10"}}),
        allow(resource="arn:aws:s3:::bucket/${aws:username}/*"),
    ], ids=["NotAction", "IfExists", "set-operator", "Numeric", "policy-variable"])
    def test_refuses_what_it_does_not_implement(self, ref_eval, statement):
        with pytest.raises(NotImplementedError):
            ref_eval(doc(statement), "s3:GetObject", "arn:aws:s3:::bucket/me/key",
                     context={"aws:SourceAccount": ACCOUNT, "aws:TagKeys": "a", "s3:max-keys": "5"})

    def test_a_resource_policy_needs_the_requester(self, ref_eval):
        with pytest.raises(ValueError, match="principal"):
            ref_eval(doc(deny()), "s3:GetObject", OBJECT)


# -- moto's policy validation -----------------------------------------------------------------

class TestMotoValidation:
    def test_iam_refuses_a_malformed_identity_policy(self, aws):
        with pytest.raises(ClientError, match="MalformedPolicyDocument"):
            aws.accepts_role_policy(doc(allow(resource="not-an-arn")))

    def test_iam_refuses_a_trust_policy_with_a_resource(self, aws):
        iam = aws.client("iam")
        trust = doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
        iam.create_role(RoleName="r", AssumeRolePolicyDocument=json.dumps(trust))
        with pytest.raises(ClientError, match="MalformedPolicyDocument"):
            iam.update_assume_role_policy(RoleName="r", PolicyDocument=json.dumps(
                doc({**trust["Statement"][0], "Resource": "*"})))

    def test_the_grammar_check_refuses_repeated_sids(self, grammar):
        with pytest.raises(MalformedPolicyDocument):
            grammar(doc(allow(Sid="Same"), allow(Sid="Same")))

    def test_but_knows_no_actions(self, aws):
        # A misspelt action passes: validation is grammar, not the service authorization reference.
        aws.accepts_role_policy(doc(allow("s3:GetObjekt")))
