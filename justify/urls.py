"""Secrets never leave the environment: the one redaction step.

Every message justify prints, every log line and every text value an importer
stores goes through :func:`redact`. It hides

- the user information of any URL (``https://user:password@host`` ->
  ``https://***@host``),
- the value of secret-looking query parameters (``?token=``, ``access_token``,
  ``sig``, ``X-Amz-Signature``, ``key``, ``password``...),
- ``Authorization`` schemes followed by a credential (``Bearer abc``),
- the literal value of any environment variable whose name says it holds a
  secret (``MLFLOW_TRACKING_PASSWORD``, ``JUSTIFY_STORE_PASSWORD``, ``*_TOKEN``),
  wherever a third-party message repeats it.

:func:`strip_credentials` is for URLs justify keeps as identifiers (a Git
remote, a store location): they lose their user information altogether.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

# A word a parameter, field or variable name ends with when it holds a secret.
_SECRET_WORDS = (
    "token|sig|signature|key|apikey|password|passwd|secret|credential|credentials|"
    "auth|authorization|session|sas"
)
_SECRET_NAME = re.compile(rf"(?:^|[^a-z0-9])(?:{_SECRET_WORDS})$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/\s@\"'<>?#]+@")
_PARAM = re.compile(r"([?&;])([A-Za-z0-9_.\-]+)=([^&#\s\"'<>]*)")
_AUTH_SCHEME = re.compile(r"\b(Bearer|Basic|Token|Digest)(\s+)[A-Za-z0-9._~+/=\-]{6,}")
# Text without any of these carries no credential: most text returns at this one search.
_HINT = re.compile("@|=|earer|asic|oken|igest")


def is_secret_name(name: str) -> bool:
    """Whether a parameter, tag or variable called ``name`` holds a secret."""
    return bool(_SECRET_NAME.search(_CAMEL.sub("_", name).lower()))


@functools.lru_cache(maxsize=1)
def _environment_secrets(snapshot: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    values = {v for k, v in snapshot if len(v) >= 8 and is_secret_name(k)}
    return tuple(sorted(values, key=len, reverse=True))


def _secrets_in_environment() -> tuple[str, ...]:
    wanted = tuple(sorted((k, v) for k, v in os.environ.items() if is_secret_name(k)))
    return _environment_secrets(wanted)


def _param(match: re.Match[str]) -> str:
    sep, name, value = match.groups()
    return f"{sep}{name}={MASK}" if value and is_secret_name(name) else match.group(0)


def redact(text: str, *, environment: bool = True) -> str:
    """``text`` with every credential it carries replaced by ``***``.

    ``environment=False`` skips looking for the values of secret environment variables
    (which scans the environment, about 0.2 ms): for the millions of source values an
    import stores, where no message of a third party can have echoed them."""
    if not text:
        return text
    if environment:
        for secret in _secrets_in_environment():
            if secret in text:
                text = text.replace(secret, MASK)
    if not _HINT.search(text):
        return text
    if "@" in text:
        text = _USERINFO.sub(rf"\1{MASK}@", text)
    if "=" in text:
        text = _PARAM.sub(_param, text)
    return _AUTH_SCHEME.sub(rf"\1\2{MASK}", text)


def strip_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``, secret parameters masked;
    other text is returned as is."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact(url)
    if not parts.netloc or "@" not in parts.netloc:
        return redact(url)
    host = parts.netloc.rsplit("@", 1)[1]
    return redact(urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment)))


class _RedactingRecord(logging.LogRecord):
    def getMessage(self) -> str:
        return redact(super().getMessage())


def redact_logs() -> None:
    """Every log record, justify's or a library's (MLflow, urllib3, Streamlit), is
    redacted when it is formatted. Idempotent."""
    if logging.getLogRecordFactory() is not _make_record:
        global _previous_factory
        _previous_factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(_make_record)
    logging.captureWarnings(True)  # Python warnings go through the same step


_previous_factory = logging.getLogRecordFactory()


def _make_record(*args: object, **kwargs: object) -> logging.LogRecord:
    record = _previous_factory(*args, **kwargs)
    record.__class__ = _RedactingRecord
    return record
