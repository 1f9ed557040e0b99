"""Compliance floors: the numbers a control demands, shared by the components that meet them
and the policy pack that checks them, so the two can never drift apart."""

#: PCI DSS 10.5.1: audit logs are kept at least twelve months.
MIN_AUDIT_LOG_RETENTION_DAYS = 365

#: KMS.3: the longest waiting period AWS allows before deleting a key (also its default), so an
#: accidental deletion has a month to be noticed and cancelled.
KMS_DELETION_WINDOW_DAYS = 30
