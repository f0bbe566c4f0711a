"""Ports: what the use cases need from the outside world, as small Protocols.

Adapters in chalicelib/adapters implement them against DynamoDB, S3, SES and SNS; tests may use
the same adapters against DynamoDB Local and moto, or in-memory fakes for pure use-case tests.
"""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.tax_registry import TaxRegistration


class TaxRegistryReader(Protocol):
    def get(self, ubn: str) -> TaxRegistration | None:
        """The registration of ``ubn``, or None when the tax office has no record."""
