"""Observability: the stack's alarms, its dashboard and where both notify (``retail:alarms``)."""
