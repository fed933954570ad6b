"""Settings: one table, read from ``[tool.justify]`` in ``pyproject.toml`` or from
``justify.toml``, then ``JUSTIFY_*`` environment variables, then command-line flags.

The configuration file is found by walking up from the current directory; its
folder is the project root, and relative paths in settings are relative to it.
Secrets never live here: a key that looks like a token or a password is refused.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from justify.errors import ConfigError

CONFIG_FILE = "justify.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Setting:
    """One setting: its key, default, environment variable and help text."""

    name: str
    default: Any
    help: str
    is_list: bool = False
    flag: str | None = None

    @property
    def env(self) -> str:
        return "JUSTIFY_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "requirements",
        ("requirements",),
        "Requirement files or folders (every *.yaml / *.yml below a folder is read).",
        is_list=True,
    ),
    Setting(
        "store",
        ".justify",
        "Where the graph lives: a folder for the embedded Oxigraph store, or the "
        "SPARQL query URL of a server (credentials in JUSTIFY_STORE_USER and "
        "JUSTIFY_STORE_PASSWORD, or JUSTIFY_STORE_TOKEN).",
        flag="--store",
    ),
    Setting(
        "store_update_url",
        None,
        "The server's SPARQL Update URL, when it is not the query URL.",
    ),
    Setting(
        "store_graph_store_url",
        None,
        "The server's Graph Store Protocol URL: bulk reads and writes go through it.",
    ),
    Setting("store_timeout", "120", "Seconds one request to the store's server may take."),
    Setting("store_batch_size", "20000", "Triples sent to the store's server per request."),
    Setting(
        "base_iri",
        "https://example.org/justify/",
        "Base IRI under which instance IRIs (requirements, runs, commits) are minted.",
    ),
    Setting(
        "requirement_file_limit_mb",
        "16",
        "The largest requirement file `justify load` reads, in MB (a guard against a "
        "generated or hostile file; raise it for a larger one).",
    ),
    Setting(
        "shapes",
        (),
        "Extra folders of SHACL shape files that run with the built-in shapes.",
        is_list=True,
    ),
    Setting(
        "patterns",
        (),
        "Extra folders of justification pattern files (YAML); a pattern with the id of a "
        "built-in one replaces it.",
        is_list=True,
    ),
    Setting(
        "roles",
        (),
        "The roles people attest in (an attestation's `role:`, a pattern's attestation "
        "slot); when given, any other role is an error, so a typo cannot leave a slot empty.",
        is_list=True,
    ),
    Setting("disabled_rules", (), "Check rule ids to switch off, such as JF-COMMIT.", is_list=True),
    Setting(
        "rule_severity",
        (),
        "Check rules whose severity changes, as RULE=violation|warning|info.",
        is_list=True,
    ),
    Setting(
        "fail_on",
        "violation",
        "The least severity that fails the check and stops a model version from shipping: "
        "violation, warning or never (--fail-on overrides).",
        flag="--fail-on",
    ),
    Setting("app_port", "8501", "The port `justify app` listens on (on 127.0.0.1).", flag="--port"),
    Setting(
        "console_row_limit",
        "1000",
        "The most rows the explorer's SPARQL console shows for one query.",
    ),
    Setting(
        "console_time_limit",
        "20",
        "Seconds the explorer's SPARQL console waits for a query before giving up.",
    ),
)


def all_settings() -> dict[str, Setting]:
    """Justify's own settings, then those of every registered importer, by name."""
    from justify.importers import registered_importers  # here: importers build on this module

    found = {s.name: s for s in SETTINGS}
    for importer in registered_importers().values():
        for s in importer.settings:
            found.setdefault(s.name, s)
    return found


_SECRET_KEY = re.compile(r"(password|passwd|token|secret|api[_-]?key|credential)", re.I)


@dataclass(frozen=True)
class Config:
    """Effective settings for one project, with where each value came from."""

    root: Path
    file: Path | None
    requirements: tuple[str, ...]
    store: str
    base_iri: str
    shapes: tuple[str, ...]
    patterns: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    disabled_rules: tuple[str, ...] = ()
    rule_severity: tuple[str, ...] = ()
    fail_on: str = "violation"
    app_port: str = "8501"
    console_row_limit: str = "1000"
    console_time_limit: str = "20"
    store_update_url: str | None = None
    store_graph_store_url: str | None = None
    store_timeout: str = "120"
    store_batch_size: str = "20000"
    requirement_file_limit_mb: str = "16"
    importer_settings: Mapping[str, Any] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    def get(self, name: str) -> Any:
        """Any setting by name, justify's own or an importer's."""
        if name in self.importer_settings:
            return self.importer_settings[name]
        if name == "importer_settings" or name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return getattr(self, name)

    def path(self, value: str) -> Path:
        """Resolve a path setting against the project root."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.root / p

    @property
    def store_location(self) -> str:
        """The store setting as a URL, or as a folder resolved against the root."""
        if self.store.startswith(("http://", "https://")):
            return self.store
        return str(self.path(self.store))

    def number(self, name: str) -> float:
        """A numeric setting; a value that is not a positive number is a ConfigError."""
        raw = self.get(name)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            value = -1.0
        if value <= 0:
            raise ConfigError(
                f"setting '{name}' is {raw!r} (from {self.origins.get(name, 'default')}), "
                "not a positive number",
                hint=f"set {name} to a number such as {all_settings()[name].default}",
            )
        return value

    def relative(self, path: Path) -> str:
        """A path as shown to users and stored in the graph: relative to the root."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.resolve().as_posix()


def find_config_file(start: Path) -> Path | None:
    """The nearest ``justify.toml``, or ``pyproject.toml`` with ``[tool.justify]``."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        candidate = folder / PYPROJECT
        if candidate.is_file() and _has_tool_table(candidate):
            return candidate
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data.get("tool"), dict) and "justify" in data["tool"]


def _read_table(file: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: configuration file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: cannot read the configuration file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: not valid TOML: {exc}", hint="fix the syntax at the line named"
        ) from exc
    if file.name == PYPROJECT:
        table = data.get("tool", {}).get("justify")
        if table is None:
            raise ConfigError(
                f"{file}: has no [tool.justify] table",
                hint="add one (justify init writes it) or point --config at a justify.toml",
            )
        return dict(table)
    return data


def _line_of(file: Path, key: str) -> int:
    try:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if re.match(rf"\s*{re.escape(key)}\s*=", line):
                return number
    except OSError:
        pass
    return 1


def _coerce(setting: Setting, value: Any, where: str) -> Any:
    if value is None:
        return None
    if setting.is_list:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: '{setting.name}' must be a list of strings")
        return tuple(value)
    if not isinstance(value, str):
        raise ConfigError(f"{where}: '{setting.name}' must be a string, not {value!r}")
    return value


def load_config(
    config_file: str | Path | None = None,
    *,
    cwd: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Read the effective configuration: file, then environment, then ``overrides``.

    ``overrides`` holds values given on the command line (``None`` means not given).
    """
    start = Path(cwd or Path.cwd()).resolve()
    env = os.environ if environ is None else environ
    file = Path(config_file).resolve() if config_file else find_config_file(start)
    if file is None and env.get("JUSTIFY_CONFIG"):
        file = Path(env["JUSTIFY_CONFIG"]).resolve()
    table = _read_table(file) if file else {}
    root = file.parent if file else start

    settings = all_settings()
    values: dict[str, Any] = {s.name: s.default for s in settings.values()}
    origins = {s.name: "default" for s in settings.values()}
    for key, value in table.items():
        where = f"{file}:{_line_of(file, key)}" if file else "configuration"
        if _SECRET_KEY.search(key):
            raise ConfigError(
                f"{where}: '{key}' looks like a secret; secrets are never read from files",
                hint="remove it and set the matching environment variable instead",
            )
        setting = settings.get(key)
        if setting is None:
            known = ", ".join(settings)
            raise ConfigError(f"{where}: unknown setting '{key}'", hint=f"known settings: {known}")
        values[key] = _coerce(setting, value, where)
        origins[key] = str(file)
    for setting in settings.values():
        raw = env.get(setting.env)
        if raw:
            values[setting.name] = (
                tuple(p for p in raw.split(os.pathsep) if p) if setting.is_list else raw
            )
            origins[setting.name] = setting.env
    for key, value in (overrides or {}).items():
        if value is not None and value != ():
            setting = settings[key]
            values[key] = _coerce(setting, value, "command line")
            origins[key] = "command line"

    base = values["base_iri"]
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+[/#]$", base):
        raise ConfigError(
            f"base_iri {base!r} (from {origins['base_iri']}) is not an absolute IRI "
            "ending in '/' or '#'",
            hint="use something like https://example.org/my-project/",
        )
    own = {s.name for s in SETTINGS}
    return Config(
        root=root,
        file=file,
        origins=origins,
        importer_settings={k: v for k, v in values.items() if k not in own},
        **{k: v for k, v in values.items() if k in own},
    )
