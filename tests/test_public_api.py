"""The package's public surface: short, sorted, complete, and behind every command."""

from __future__ import annotations

import inspect

import justify
from justify.cli import cli


def test_all_is_sorted_and_importable() -> None:
    assert justify.__all__ == sorted(justify.__all__)
    for name in justify.__all__:
        assert hasattr(justify, name), name


def test_every_public_callable_is_in_all() -> None:
    public = {
        name
        for name, value in vars(justify).items()
        if not name.startswith("_") and (inspect.isfunction(value) or inspect.isclass(value))
    }
    assert public <= set(justify.__all__)


def test_every_command_forwards_to_a_public_function() -> None:
    functions = {
        "import": None,
        "mlflow": "import_mlflow",
        "git": "import_git",
        "store": None,
        "copy": "copy_store",
        "repair": "repair_store",
    }
    for name in cli.commands:
        target = functions.get(name, name)
        if target:
            assert callable(getattr(justify, target)), f"`justify {name}` has no justify.{target}()"
    for group in ("import", "store"):
        for name in cli.commands[group].commands:  # type: ignore[attr-defined]
            assert callable(getattr(justify, functions[name] or name))


def test_public_functions_are_typed() -> None:
    for name in justify.__all__:
        value = getattr(justify, name)
        if inspect.isfunction(value):
            hints = inspect.get_annotations(value)
            assert "return" in hints, f"justify.{name} has no return type"
