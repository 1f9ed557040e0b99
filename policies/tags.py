"""The standard tags (TAG.1): every taggable AWS resource carries each key of
``STANDARD_TAG_KEYS`` with a value, and ``managed-by=pulumi``.

The tag keys and the ``managed-by`` value come from ``components/common/conventions.py``,
the one source of truth. "Taggable" is derived from the pulumi-aws SDK (``_taggable``): a
resource class whose constructor accepts ``tags``.
"""

from __future__ import annotations

from pulumi_policy import ReportViolation, ResourceValidationArgs

from components.common.conventions import MANAGED_BY, STANDARD_TAG_KEYS
from policies._helpers import resource_policy, tag_map
from policies._taggable import is_taggable


def _standard_tags(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not args.resource_type.startswith("aws:") or not is_taggable(args.resource_type):
        return
    # Missing tags is a violation: every standard key is then missing.
    tags = tag_map(args.props.get("tags"))
    missing = [
        key
        for key in STANDARD_TAG_KEYS
        if not isinstance(tags.get(key), str) or not tags[key].strip()
    ]
    if missing:
        report_violation(
            f"missing or empty standard tags: {', '.join(missing)}; merge "
            "Conventions.tags() (components/common/conventions.py) into this resource's tags.",
            None,
        )
    managed_by = tags.get("managed-by")
    if "managed-by" not in missing and managed_by != MANAGED_BY:
        report_violation(
            f"tag managed-by is {managed_by!r}, expected {MANAGED_BY!r}; take the tags from "
            "Conventions.tags() rather than writing them by hand.",
            None,
        )


# --- The policies ---------------------------------------------------------------------------

POLICIES = [
    resource_policy("standard-tags",
                    f"TAG.1: every taggable AWS resource carries the standard tags, with managed-by={MANAGED_BY}",
                    None, _standard_tags),
]
