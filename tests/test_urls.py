"""Credentials never leave the environment: URLs are shown and stored without them."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_justify

from justify.urls import strip_credentials


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        ("https://user:tok3n@git.example.com/org/repo.git", "https://git.example.com/org/repo.git"),
        ("https://tok3n@git.example.com/r", "https://git.example.com/r"),
        ("http://u:p@127.0.0.1:5000/path?q=1#f", "http://127.0.0.1:5000/path?q=1#f"),
        ("https://host/no-credentials", "https://host/no-credentials"),
        ("git@github.com:org/repo.git", "git@github.com:org/repo.git"),  # scp-like: no secret
        ("/local/path", "/local/path"),
    ],
)
def test_strip_credentials(url: str, clean: str) -> None:
    assert strip_credentials(url) == clean


def test_a_store_url_with_credentials_is_never_printed(tmp_path: Path) -> None:
    result = run_justify("status", "--store", "https://alice:s3cret@sparql.example/q", cwd=tmp_path)
    assert result.returncode == 2
    assert "sparql.example" in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
