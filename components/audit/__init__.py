"""Audit and detection: the audit bucket, CloudTrail, AWS Config, GuardDuty, Security Hub and
IAM Access Analyzer (components/audit/services.py)."""
