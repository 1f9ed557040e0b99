"""The retail CrossGuard policy pack.

Kept free of imports on purpose: the complete list is ``policies.baseline.POLICIES`` (the
foundation's policies there, the rest in one module per area), the offline
evaluator in ``policies.offline``, and ``__main__.py`` (which starts the gRPC server the
Pulumi CLI talks to) must never be imported by anything else.
"""
