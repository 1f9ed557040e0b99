"""Policies completed after their owner: the bookkeeping KeyRing and ObjectStore share.

A key or bucket policy sometimes has to name a resource that is built later *from* the key or
bucket (the CloudFront distribution that reads the assets bucket). The owner then declares
the name (a key domain, a bucket purpose) "admitted later" and writes that policy only when
``admit`` hands it the statements. Each declared name is admitted exactly once: a second call
would write a second policy resource over the first, and a name never admitted would leave
its policy unwritten (for a bucket: no TLS-only deny at all).
"""

from __future__ import annotations

from collections.abc import Iterable


def refuse_unknown(declared: Iterable[str], known: Iterable[str], what: str) -> None:
    """``admitted_later`` may only name ``known`` things (``what``: "domain of the ring")."""
    unknown = sorted(set(declared) - set(known))
    if unknown:
        raise ValueError(f"admitted_later names no {what}: {', '.join(unknown)}")


class Admissions:
    """Which declared names ``admit`` has been called for, refusing the calls that cannot work."""

    def __init__(self, declared: Iterable[str], *, kind: str, args: str, conflict: str):
        self._declared = frozenset(declared)
        self._admitted: set[str] = set()
        self._kind, self._args, self._conflict = kind, args, conflict

    def claim(self, name: str) -> None:
        """Record that ``name`` is being admitted now; raise if it cannot be."""
        if name not in self._declared:
            raise ValueError(f"{self._kind} {name!r} is not in {self._args}.admitted_later: {self._conflict}")
        if name in self._admitted:
            raise ValueError(f"{self._kind} {name!r} is already admitted: give admit() every statement at once")
        self._admitted.add(name)

    @property
    def pending(self) -> list[str]:
        """Declared names not admitted yet, sorted."""
        return sorted(self._declared - self._admitted)

    def require_all(self, owner: str) -> None:
        """Raise unless every declared name has been admitted (call once the program built
        what the statements name)."""
        if self.pending:
            raise ValueError(f"{owner}: {self._kind} {', '.join(self.pending)} declared in "
                             f"{self._args}.admitted_later but never admitted: call admit() for each")
