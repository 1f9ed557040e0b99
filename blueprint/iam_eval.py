"""A reference IAM policy evaluator: one policy document's verdict on one request.

It implements only what the blueprint's documents use, from the IAM policy-evaluation rules
(explicit deny wins; an Allow applies only when its action, resource, principal and every
condition match; a negated operator is true when its key is absent; ``Null``; ``ArnLike`` per
ARN component; condition keys ignore case, values do not; the account root in a ``Principal``
stands for every principal of that account), and raises ``NotImplementedError`` on anything
else (``NotAction``/``NotResource``/``NotPrincipal``, ``...IfExists``, ``ForAnyValue:``/
``ForAllValues:`` set operators, policy variables, numeric and date operators). It is ours, not
moto's and not AWS's: ``tests/iam/test_moto_evaluators.py`` pins each rule it implements, and
``blueprint.access`` combines its verdicts across identity, resource and key policies.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import Any

#: A principal as the evaluator takes it: ("AWS", arn) or ("Service", name).
Principal = tuple[str, str]


class Verdict(enum.Enum):
    """One policy's verdict, named as moto names its ``PermissionResult``."""

    PERMITTED = 1
    DENIED = 2
    NEUTRAL = 3


_NEGATED = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike",
            "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}
_POSITIVE = {"StringEquals", "StringLike", "ArnEquals", "ArnLike", "Bool"}
_UNSUPPORTED_ELEMENTS = ("NotAction", "NotResource", "NotPrincipal")
_ROOT = re.compile(r"^arn:[^:]+:iam::(\d{12}):root$")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    if "${" in pattern:
        raise NotImplementedError(f"policy variables are not supported: {pattern}")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ignore_case else 0) is not None


def _arn_like(pattern: str, arn: str) -> bool:
    # ArnLike/ArnEquals compare each of the six colon-separated components on its own.
    wanted, actual = pattern.split(":", 5), arn.split(":", 5)
    return len(wanted) == len(actual) == 6 and all(_glob(w, a) for w, a in zip(wanted, actual, strict=True))


def _matches(operator: str, expected: str, actual: str) -> bool:
    if operator == "StringEquals":
        return expected == actual
    if operator == "StringLike":
        return _glob(expected, actual)
    if operator in ("ArnEquals", "ArnLike"):
        return _arn_like(expected, actual)
    if operator == "Bool":
        return expected.lower() == actual.lower()
    raise NotImplementedError(operator)


def _condition_holds(operator: str, block: Mapping[str, Any], context: Mapping[str, str]) -> bool:
    if operator.endswith("IfExists") or ":" in operator:
        raise NotImplementedError(f"condition operator {operator} is not supported by the reference evaluator")
    lowered = {key.lower(): value for key, value in context.items()}  # condition keys ignore case
    for key, expected in block.items():
        values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _listed(expected)]
        actual = lowered.get(key.lower())
        if operator == "Null":
            (wanted,) = values
            holds = (actual is None) == (wanted.lower() == "true")
        elif operator in _NEGATED:
            # A negated operator is true when the key is absent: the reason the bucket policy
            # pairs every StringNotEquals with Null: false.
            holds = actual is None or not any(_matches(_NEGATED[operator], v, actual) for v in values)
        elif operator in _POSITIVE:
            holds = actual is not None and any(_matches(operator, v, actual) for v in values)
        else:
            raise NotImplementedError(f"condition operator {operator} is not supported by the reference evaluator")
        if not holds:  # keys within an operator, and operators within a condition: all must hold
            return False
    return True


def _principal_matches(element: Any, principal: Principal) -> bool:
    if element == "*":
        return True
    kind, name = principal
    for value in _listed(element.get(kind, [])):
        if value in ("*", name):
            return True
        root = _ROOT.match(value) if kind == "AWS" else None
        if root and name.split(":")[4:5] == [root.group(1)]:
            return True  # the account root delegates to every principal of that account
    return False


def _statement_applies(stmt: Mapping[str, Any], action: str, resource: str,
                       principal: Principal | None, context: Mapping[str, str]) -> bool:
    unsupported = [element for element in _UNSUPPORTED_ELEMENTS if element in stmt]
    if unsupported:
        raise NotImplementedError(f"{unsupported} not supported by the reference evaluator")
    if not any(_glob(p, action, ignore_case=True) for p in _listed(stmt["Action"])):
        return False
    if "Resource" in stmt and not any(_glob(p, resource) for p in _listed(stmt["Resource"])):
        return False
    if "Principal" in stmt:
        if principal is None:
            raise ValueError(f"statement {stmt.get('Sid')!r} names a principal: pass the requester's")
        if not _principal_matches(stmt["Principal"], principal):
            return False
    return all(_condition_holds(op, block, context) for op, block in stmt.get("Condition", {}).items())


def reference_evaluate(policy: Mapping[str, Any] | str, action: str, resource: str = "*", *,
                       context: Mapping[str, str] | None = None,
                       principal: Principal | None = None) -> Verdict:
    """One policy's verdict: DENIED (an explicit Deny applies), PERMITTED (an Allow applies and
    no Deny does) or NEUTRAL (nothing applies: the implicit deny, unless another policy allows).
    Context values are single strings, as every key these documents test is single-valued."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    allowed = False
    for stmt in _listed(document["Statement"]):
        if _statement_applies(stmt, action, resource, principal, context or {}):
            if stmt["Effect"] == "Deny":
                return Verdict.DENIED
            allowed = True
    return Verdict.PERMITTED if allowed else Verdict.NEUTRAL
