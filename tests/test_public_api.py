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
        "openlineage": "import_openlineage",
        "lineage": None,
        "receive": "lineage_receiver",
        "store": None,
        "copy": "copy_store",
        "repair": "repair_store",
    }
    for name in cli.commands:
        target = functions.get(name, name)
        if target:
            assert callable(getattr(justify, target)), f"`justify {name}` has no justify.{target}()"
    for group in ("import", "store", "lineage"):
        for name in cli.commands[group].commands:  # type: ignore[attr-defined]
            assert callable(getattr(justify, functions[name] or name))


def test_public_functions_are_typed() -> None:
    for name in justify.__all__:
        value = getattr(justify, name)
        if inspect.isfunction(value):
            hints = inspect.get_annotations(value)
            assert "return" in hints, f"justify.{name} has no return type"


def _justify_types(hint: object) -> set[type]:
    import typing

    if isinstance(hint, type):
        return {hint} if hint.__module__.startswith("justify") else set()
    return {t for arg in typing.get_args(hint) for t in _justify_types(arg)}


def test_every_type_a_public_function_takes_or_returns_is_exported() -> None:
    """A user can name (and annotate with) everything the API hands them."""
    import typing

    missing: set[str] = set()
    for name in justify.__all__:
        value = getattr(justify, name)
        if inspect.isclass(value):
            members = [
                m for n, m in inspect.getmembers(value, inspect.isfunction)
                if not n.startswith("_") or n == "__init__"
            ]  # fmt: skip
            hints = [*typing.get_type_hints(value).values()]
        elif inspect.isfunction(value):
            members, hints = [value], []
        else:
            continue
        for member in members:
            hints += typing.get_type_hints(member).values()
        for hint in hints:
            missing |= {t.__name__ for t in _justify_types(hint)} - set(justify.__all__)
    assert not missing, f"not exported from justify: {sorted(missing)}"


def test_no_public_name_shadows_a_module() -> None:
    """``import justify.x.y as m`` and ``justify.x`` must name the module ``x``: a
    function exported under a module's name breaks both."""
    import importlib
    import pkgutil

    shadowed = []
    for info in pkgutil.walk_packages(justify.__path__, "justify."):
        if info.name.endswith("__main__"):
            continue  # running it is what importing it does
        parent_name, _, leaf = info.name.rpartition(".")
        parent = importlib.import_module(parent_name)
        importlib.import_module(info.name)
        if not inspect.ismodule(getattr(parent, leaf)):
            shadowed.append(info.name)
    assert not shadowed, f"names that hide a module: {shadowed}"
