"""Which pulumi-aws resource types accept ``tags``, derived from the SDK itself.

A hand-kept list of taggable types goes stale with every provider release (new resources,
resources that gain tagging), and a stale list silently exempts resources from the
standard-tags policy. The pulumi-aws SDK already knows: a resource class whose constructor
takes ``tags`` is taggable.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import keyword
import typing
from collections.abc import Callable

import pulumi

_SDK_PACKAGE = "pulumi_aws"

#: The token module that pulumi-aws maps to the top-level package (``aws:index/...``).
_INDEX_MODULE = "index"


def parse_aws_token(token: str) -> tuple[str, str] | None:
    """``aws:ec2/vpc:Vpc`` -> ``("pulumi_aws.ec2", "Vpc")``; None for non-``aws:`` tokens.

    Only the first segment of the middle part names the Python module: pulumi-aws puts
    every resource of ``aws:ec2/...`` in ``pulumi_aws.ec2``.
    """
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "aws":
        return None
    module, class_name = parts[1].split("/")[0], parts[2]
    # Refuses anything that is not a plain identifier, so a malformed token can never
    # steer import_module at a dotted path outside pulumi_aws.
    if not module.isidentifier() or not class_name.isidentifier():
        return None
    if module == _INDEX_MODULE:
        return _SDK_PACKAGE, class_name
    if keyword.iskeyword(module):
        # Pulumi's Python codegen suffixes keywords: aws:lambda/... lives in pulumi_aws.lambda_.
        module += "_"
    return f"{_SDK_PACKAGE}.{module}", class_name


@functools.cache
def is_taggable(token: str) -> bool:
    """Whether the pulumi-aws resource named by ``token`` accepts a ``tags`` input.

    Unknown or unimportable tokens are not taggable rather than an error: a policy pack
    older or newer than the program's provider must still run. Providers
    (``pulumi:providers:aws``) are not ``aws:`` tokens and so are not taggable either:
    their ``default_tags`` are not the resource's own tags.

    Cached because a stack has thousands of resources of a few dozen types, and each first
    look-up imports an SDK module (a quarter of a second for ``pulumi_aws.ec2``).
    """
    parsed = parse_aws_token(token)
    if parsed is None:
        return False
    module_name, class_name = parsed
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        # Only a missing module means "unknown token"; any other import error is a broken
        # environment and should be loud, not a quietly skipped tag check.
        return False
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, pulumi.CustomResource)):
        return False
    return _accepts_tags(cls, getattr(module, f"{class_name}Args", None))


def _accepts_tags(cls: type, args_cls: object) -> bool:
    # pulumi-aws generates `_internal_init` with every input as a keyword: the most direct
    # answer. The `__init__` overloads and the Args class are fall-backs in case a future
    # code generator drops it.
    internal_init = getattr(cls, "_internal_init", None)
    if callable(internal_init):
        return _has_tags_parameter(internal_init)
    if any(_has_tags_parameter(overload) for overload in typing.get_overloads(cls.__init__)):
        return True
    if isinstance(args_cls, type):
        return _has_tags_parameter(args_cls.__init__)
    return False


def _has_tags_parameter(function: Callable[..., object]) -> bool:
    try:
        return "tags" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        # Builtins and C callables have no inspectable signature: treat as "no tags".
        return False
