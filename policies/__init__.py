"""The retail CrossGuard policy pack.

Kept free of imports on purpose: the policies live in ``policies.baseline``, the offline
evaluator in ``policies.offline``, and ``__main__.py`` (which starts the gRPC server the
Pulumi CLI talks to) must never be imported by anything else.
"""
