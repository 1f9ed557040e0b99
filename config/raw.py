"""Reading raw (merged, not yet validated) stack-file values the way pydantic will, so the
cross-key rules can run beside field validation and report in the same message."""

from __future__ import annotations

from typing import Any


def as_int(value: Any) -> int | None:
    """The whole number pydantic would read from ``value`` ("2", 2.0, "2.0"), else None."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None
