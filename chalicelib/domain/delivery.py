"""What a mail or SMS provider's failure means for a retry."""

from __future__ import annotations


class NotSent(Exception):
    """The provider refused or was never reached: nothing went out, a retry cannot duplicate."""
