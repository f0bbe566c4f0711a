"""Jinja2 templates for the console: autoescaped, loaded once per container."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from chalicelib.domain.period import TAIWAN_TZ


def _money(value: Any) -> str:
    """NT$ amounts as merchants read them: thousands separated, decimals only where there are any."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if amount == amount.to_integral_value():
        return f"{amount:,.0f}"
    return f"{amount:,.2f}".rstrip("0")


def taiwan_time(value: datetime | str | None) -> str:
    """A stored moment as people in Taiwan read it, to the minute: ``2025-11-03 14:05``."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(TAIWAN_TZ).strftime("%Y-%m-%d %H:%M")


@lru_cache(maxsize=1)
def environment() -> Environment:
    folder = resources.files("chalicelib.web").joinpath("templates")
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = _money
    env.filters["taiwan_time"] = taiwan_time
    return env


def render_template(name: str, variables: dict[str, Any]) -> str:
    return environment().get_template(name).render(**variables)
