"""The retail CrossGuard policy pack, one module per AWS service or control family.

Kept free of imports on purpose: the complete list is ``policies.registry.POLICIES`` (which
only lists the policies of the service modules), the offline evaluator is
``policies.offline``, and ``__main__.py`` (which starts the gRPC server the Pulumi CLI talks
to) must never be imported by anything else.
"""
