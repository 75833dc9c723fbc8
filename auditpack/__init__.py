"""auditpack: evidence for the security measures a GDPR processor promised."""

__version__ = "0.1.0"
