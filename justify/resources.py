"""Where the ontology, shapes and explorer files are: inside the installed wheel
(``justify/_data``), or at the top of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_folder(name: str) -> Path:
    """The folder ``name`` (ontology, shapes or app) shipped with justify."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"justify's '{name}' folder is missing from {_PACKAGE}; reinstall justify"
    )


def package_file(name: str) -> Path:
    """A file shipped inside the package, such as ``schemas/check-report.schema.json``."""
    return _PACKAGE / name


def ontology_file() -> Path:
    """The justify ontology in Turtle."""
    return data_folder("ontology") / "justify.ttl"


def shapes_folder() -> Path:
    """The built-in SHACL shapes."""
    return data_folder("shapes")
