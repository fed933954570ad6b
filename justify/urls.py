"""URLs as justify shows and stores them: never with credentials."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def strip_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``; other text is returned as is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.netloc or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
