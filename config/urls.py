"""URLs people open from a page or a panel (runbooks): checked when the config loads, so a typo
shows up in ``modelwatch check`` rather than as a dead link in the middle of an incident."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

__all__ = ["LinkUrl", "check_link_url"]


def check_link_url(value: str) -> str:
    """Return ``value`` when it is an absolute http(s) URL with a host; raise ValueError otherwise."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"must be an absolute http(s) URL such as https://wiki.example.com/runbooks/x, got {value!r}")
    return value


LinkUrl = Annotated[str, AfterValidator(check_link_url)]
