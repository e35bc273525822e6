"""Shipping: the image, the registry by digest, staging, release promotion and rollback (docs/runbook.md)."""
