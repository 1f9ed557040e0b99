"""Naming and tagging conventions shared by every component and by the policy pack.

Tags are merged in plain Python, not through provider ``default_tags`` or transforms:
the mock runtime shows neither, and a tag that cannot be seen in tests cannot be proved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

#: The standard tag keys, in the order they are documented. The policy pack requires them
#: on every taggable AWS resource.
STANDARD_TAG_KEYS: tuple[str, ...] = (
    "environment",
    "owner",
    "cost-center",
    "data-classification",
    "managed-by",
    "stack",
)

#: The tag that puts a stateful store under the stack's AWS Backup plan (selected by it).
BACKUP_TAG_KEY = "backup"

#: The value of the ``managed-by`` tag: it tells an operator in the console not to edit by hand.
MANAGED_BY = "pulumi"

_UNSAFE = re.compile(r"[^a-z0-9-]")

#: The project name, as in ``Pulumi.yaml``; it prefixes physical names.
PROJECT = "retail"


@dataclass(frozen=True)
class Conventions:
    """Names and tags for one stack. Built once from the stack config and handed to components."""

    environment: str
    owner: str
    cost_center: str
    data_classification: str
    stack: str
    project: str = PROJECT
    dr_tags: tuple[tuple[str, str], ...] = ()
    """``dr-strategy`` and ``dr-region`` when the stack has a DR strategy: on every resource, so
    the policy pack (which sees resources, not the stack config) knows what each store owes."""
    qualifier: str = ""
    """Set for the DR region's slice ("dr"): IAM roles and S3 buckets have account-wide (or
    global) names, so a second slice's physical names must differ from the primary's."""

    @property
    def standard_tags(self) -> dict[str, str]:
        return {
            "environment": self.environment,
            "owner": self.owner,
            "cost-center": self.cost_center,
            "data-classification": self.data_classification,
            "managed-by": MANAGED_BY,
            "stack": self.stack,
        }

    def backup_tags(self) -> dict[str, str]:
        """Carried by every stateful store (Aurora, DynamoDB, the data buckets): the stack's
        backup plan selects by it, so a store added later is covered without editing the plan.
        The value names the stack, not the slice: selections are regional, so the DR slice's
        stores are picked up only by a plan in the DR region, and never by another stack's."""
        return {BACKUP_TAG_KEY: f"{self.project}-{self.stack}"}

    def tags(self, name: str | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The standard tags, plus ``Name`` (the console's display name) and any extra tags.

        Extra tags never override a standard tag: the standard set is what cost reports and
        the policy pack rely on, so a clash is a programming error.
        """
        merged: dict[str, str] = {}
        if name is not None:
            merged["Name"] = name
        for key, value in (extra or {}).items():
            if key in STANDARD_TAG_KEYS:
                raise ValueError(f"tag {key!r} is a standard tag and cannot be overridden")
            if key == "Name" and name is not None:
                raise ValueError("tag 'Name' given twice: as the name argument and as an extra tag")
            merged[key] = value
        merged.update(self.dr_tags)
        merged.update(self.standard_tags)
        return merged

    def physical_name(self, *parts: str, max_length: int = 63) -> str:
        """A physical (AWS-side) name: ``<project>-<stack>-<parts>``, lower-case, bounded.

        Bounded because many AWS names are (KMS aliases 256, log groups 512, S3 buckets 63);
        63 is the tightest common limit and so the default. Characters other than letters,
        digits and hyphens (a stack named ``eu_prod.2``) become hyphens, which every AWS name
        accepts.
        """
        if self.qualifier and parts and parts[0].startswith(f"{self.qualifier}-"):
            # The DR slice's components are named "dr-<part>" already (URNs need it): one "dr".
            parts = (parts[0].removeprefix(f"{self.qualifier}-"), *parts[1:])
        prefix = (self.project, self.stack, *((self.qualifier,) if self.qualifier else ()))
        name = _UNSAFE.sub("-", "-".join((*prefix, *parts)).lower())
        if len(name) > max_length:
            raise ValueError(f"physical name {name!r} is longer than {max_length} characters")
        return name
