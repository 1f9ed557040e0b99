"""moto-backed policy tests: the documents the components produce, loaded into moto.

Documents come from the prod graph where the program emits them (bucket and key policies,
role trust and inline policies, bucket, table and key settings: exactly what ``pulumi up``
would send), and from the pure grant builders where the platform does not attach them yet
(bucket, table, database and cache grants), built with the ARNs moto gives the resources.

How each document is checked, and what moto (5.2) can and cannot show:

1. **IAM accepts it.** ``put_role_policy`` and ``update_assume_role_policy`` run moto's policy
   grammar validator (``moto.iam.policy_validation``): elements, effects, condition operator
   names, ARN formats, unique Sids. It knows no action, resource type or condition key, so a
   misspelt action passes. moto's ``create_role`` does not validate the trust policy (the
   tests call ``update_assume_role_policy`` for that), and neither S3 nor KMS validates a
   resource policy: bucket and key policies go through the same validator directly.

2. **S3, end to end.** Under IAM enforcement (``moto.core.enable_iam_authentication``: every
   request inside the block is authorised, none before it, so no call counting is needed)
   moto authorises S3 requests against the real resource ARNs (``arn:aws:s3:::bucket``,
   ``arn:aws:s3:::bucket/key``). A role holding a bucket grant is shown to do the granted
   actions on its bucket and nothing else. The KMS half of a bucket grant is not exercised
   this way (moto's S3 never calls KMS as the caller): it is evaluated as in 3.

3. **moto's evaluator, for the rest.** For DynamoDB, KMS, RDS and ElastiCache moto authorises
   every call against resource ``"*"``, so a resource-scoped grant could never match. Those
   documents are evaluated with moto's own ``IAMPolicy.is_action_permitted`` with the real
   resource ARNs and condition context. That evaluator (pinned in
   ``test_moto_evaluators.py``, so an upgrade that changes it shows there):

   - implements ``StringEquals`` only; ``Bool``, ``Null``, ``StringNotEquals``, ``ArnLike``
     and every other operator are ignored, i.e. always satisfied;
   - treats a condition key missing from the context as satisfied (so ``kms:ViaService`` is
     tested with the wrong service, never with none);
   - reports a statement whose condition fails as DENIED, whatever its effect: an Allow with
     the wrong ``kms:ViaService`` reads DENIED (right: not allowed), but so does a Deny whose
     condition does not hold (wrong: it should not apply);
   - matches principals only against ``Principal.AWS``; given a principal, it raises
     ``TypeError`` on a statement whose principal is a ``Service``.

4. **A reference evaluator where moto's is blind** (:func:`blueprint.iam_eval.reference_evaluate`): the bucket
   policy's ``Bool``/``Null``/``StringNotEquals``/``ArnLike`` conditions, the logs key's
   encryption-context ``ArnLike``, service principals. It implements only what these
   documents use, from the IAM policy-evaluation rules (explicit deny wins; a negated operator
   is true when its key is absent; ``Null``; ``ArnLike`` per ARN component), raises on
   anything else, and is itself tested against those rules in ``test_moto_evaluators.py``.
   It is ours, not moto's and not AWS's: a test that uses it says so.

Not checkable in moto at all (the tests that would show them are strict xfails):
``RotationPeriodInDays`` (accepted, not stored); a service principal assuming a role (moto's
STS only knows IAM callers, and crashes on a ``Service`` trust statement); bucket-policy
conditions on real requests (moto enforces a bucket policy's Deny statements on object
requests but ignores their conditions, so the prod policy refuses even TLS requests; the
grant tests therefore use buckets without it); ``PutBucketLogging`` against the logs bucket's
policy (moto's log-delivery check crashes on a ``"Principal": "*"`` statement).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.policy_validation import IAMPolicyDocumentValidator

from blueprint import ResourceGraph, iam_eval
from blueprint.iam_eval import Principal
from blueprint.mocks import ACCOUNT_ID

PERMITTED = PermissionResult.PERMITTED
DENIED = PermissionResult.DENIED
NEUTRAL = PermissionResult.NEUTRAL


@pytest.fixture
def prod(graph_of: Callable[[str], ResourceGraph]) -> ResourceGraph:
    """The prod stack's graph (synthesized once per session by tests/conftest.py)."""
    return graph_of("prod")


# -- moto ---------------------------------------------------------------------------------

#: One boto3 session for the whole run, so each service model is loaded once: mock_aws resets
#: boto3's default session on every start, and reloading the models was most of the run time.
#: Its clients carry explicit credentials, never the environment's.
_SESSION = boto3.session.Session()


@dataclass(frozen=True)
class RoleSession:
    """Temporary credentials of an assumed role."""

    region: str
    credentials: Mapping[str, Any]

    def client(self, service: str) -> Any:
        return _SESSION.client(service, region_name=self.region,
                               aws_access_key_id=self.credentials["AccessKeyId"],
                               aws_secret_access_key=self.credentials["SecretAccessKey"],
                               aws_session_token=self.credentials["SessionToken"])


@dataclass
class MotoAccount:
    """The mocked account, in the stack's region; clients sign as the account's admin."""

    region: str
    account_id: str = ACCOUNT_ID
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            # moto takes any key of the mocked account's admin when enforcement is off.
            self._clients[service] = _SESSION.client(service, region_name=self.region,
                                                     aws_access_key_id="testing", aws_secret_access_key="testing")
        return self._clients[service]

    def role_session(self, name: str, policy: Mapping[str, Any] | str) -> RoleSession:
        """A session of a role holding ``policy`` as its one inline policy, as ``attach`` does.

        Setup calls (role, policy, AssumeRole) must run outside enforcement; the session's
        own calls are authorised only inside ``enable_iam_authentication()``.
        """
        iam, sts = self.client("iam"), self.client("sts")
        trust = {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
            "Action": "sts:AssumeRole"}]}
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        document = policy if isinstance(policy, str) else json.dumps(policy, sort_keys=True)
        iam.put_role_policy(RoleName=name, PolicyName=f"{name}-grant", PolicyDocument=document)
        credentials = sts.assume_role(RoleArn=role["Arn"], RoleSessionName=f"{name}-session")["Credentials"]
        return RoleSession(self.region, credentials)

    def accepts_role_policy(self, policy: Mapping[str, Any] | str, name: str = "grant-holder") -> None:
        """IAM's own check of an identity policy: raises MalformedPolicyDocument if refused."""
        iam = self.client("iam")
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
        document = policy if isinstance(policy, str) else json.dumps(policy, sort_keys=True)
        iam.put_role_policy(RoleName=name, PolicyName="grant", PolicyDocument=document)
        assert json.loads(document) == iam.get_role_policy(RoleName=name, PolicyName="grant")["PolicyDocument"]


@pytest.fixture
def aws(prod: ResourceGraph) -> Iterator[MotoAccount]:
    """A fresh mocked AWS account for one test."""
    with mock_aws():
        yield MotoAccount(region=prod.region)


def validate_policy_grammar(policy: Mapping[str, Any] | str) -> None:
    """moto's IAM policy grammar check, for resource policies that S3 and KMS take unchecked."""
    IAMPolicyDocumentValidator(policy if isinstance(policy, str) else json.dumps(policy)).validate()


def moto_evaluate(policy: Mapping[str, Any] | str, action: str, resource: str = "*", *,
                  context: Mapping[str, str] | None = None, principal: str | None = None) -> PermissionResult:
    """moto's evaluator (see the module docstring for what it ignores)."""
    document = policy if isinstance(policy, str) else json.dumps(policy)
    return IAMPolicy(document).is_action_permitted(action, resource, principal, dict(context or {}))


@pytest.fixture
def moto_eval() -> Callable[..., PermissionResult]:
    return moto_evaluate


@pytest.fixture
def grammar() -> Callable[[Mapping[str, Any] | str], None]:
    return validate_policy_grammar


# -- reference evaluator -------------------------------------------------------------------

def reference_evaluate(policy: Mapping[str, Any] | str, action: str, resource: str = "*", *,
                       context: Mapping[str, str] | None = None,
                       principal: Principal | None = None) -> PermissionResult:
    """:func:`blueprint.iam_eval.reference_evaluate`'s verdict, as moto's ``PermissionResult``."""
    verdict = iam_eval.reference_evaluate(policy, action, resource, context=context, principal=principal)
    return PermissionResult[verdict.name]


@pytest.fixture
def ref_eval() -> Callable[..., PermissionResult]:
    return reference_evaluate


# -- graph inputs as AWS API shapes ----------------------------------------------------------

#: Where the AWS API's member name is not the input's name with a capital first letter.
_API_NAMES = {"id": "ID", "kmsMasterKeyId": "KMSMasterKeyID", "sseAlgorithm": "SSEAlgorithm"}


def to_api(value: Any) -> Any:
    """A Pulumi input (camelCase keys, numbers as floats) in the AWS API's shape (PascalCase
    members, integers)."""
    if isinstance(value, Mapping):
        return {_API_NAMES.get(k, k[:1].upper() + k[1:]): to_api(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_api(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def projected(actual: Any, expected: Any) -> Any:
    """``actual`` cut down to the members ``expected`` has (lists element by element), so a
    read-back can be compared with ``==`` to what was sent while the defaults the service adds
    (``BucketKeyEnabled: false``, ``TransitionDefaultMinimumObjectSize``...) are left out."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return {k: projected(actual[k], v) for k, v in expected.items() if k in actual}
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [projected(a, e) for a, e in zip(actual, expected, strict=True)]
    return actual


@pytest.fixture
def api() -> Callable[[Any], Any]:
    return to_api


@pytest.fixture
def project() -> Callable[[Any, Any], Any]:
    return projected
