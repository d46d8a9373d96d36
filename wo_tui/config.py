"""Settings: defaults < TOML file < ``WO_TUI_*`` environment < command-line overrides.

Plain Python (no Textual): the CLI, the app factory and the workers all receive a `Settings`
built by `load_settings`. Every problem becomes one line of a `ConfigError` naming where the
bad value came from and its key; no message carries an input value that could be a secret
(a keymap key and a work-order type code are quoted: they cannot be).
"""

from __future__ import annotations

import difflib
import getpass
import os
import re
import tomllib
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, available_timezones

import platformdirs
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from wo_tui.core.addresses import NotAnAddress, mailbox
from wo_tui.core.business_days import BusinessDays, check_region
from wo_tui.core.clock import Zone, describe_zone, local_time, utc_now
from wo_tui.core.db import BUSY_TIMEOUT_MS, sqlite_file, sqlite_url
from wo_tui.core.errors import did_you_mean
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.redact import MASK, printable_url, url_secrets
from wo_tui.keys import ALL_BINDINGS, BINDING_IDS, keymap_clashes

APP_NAME = "wo-tui"
ENV_PREFIX = "WO_TUI_"
_SECTION = ConfigDict(extra="forbid", hide_input_in_errors=True)
ColorMode = Literal["auto", "truecolor", "256", "16", "none"]
_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _check_password_file(path: Path) -> Path:
    """Refuse a missing password file or one others can read (as libpq does for .pgpass)."""
    path = path.expanduser()
    if not path.is_file():
        raise ValueError(f"password file {path} does not exist or is not a file")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise ValueError(
            f"password file {path} is accessible by group or others (mode {mode:04o}); "
            f"run: chmod 600 {path}"
        )
    return path


class _PasswordSettings(BaseModel):
    """A password given directly (environment) or as a file only its owner can read."""

    model_config = _SECTION
    password: SecretStr | None = Field(None, description="Password (prefer the environment).")
    password_file: Path | None = Field(None, description="File holding the password (mode 600).")

    @field_validator("password_file")
    @classmethod
    def _password_file_ok(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and info.data.get("password") is not None:
            raise ValueError("set either password or password_file, not both")
        return None if value is None else _check_password_file(value)

    def resolved_password(self) -> SecretStr | None:
        """The password, read from `password_file` (trailing newline stripped) if given."""
        if self.password_file is not None:
            return SecretStr(self.password_file.read_text(encoding="utf-8").rstrip("\r\n"))
        return self.password


class DatabaseSettings(_PasswordSettings):
    """Where the work orders are stored."""

    url: str | None = Field(None, repr=False, description="SQLAlchemy URL or SQLite file path.")
    pool_size: int = Field(5, ge=1, description="Connections kept open in the pool.")

    @field_validator("url")
    @classmethod
    def _url_parses(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("database URL is empty")
        if value is not None and "://" in value and sqlite_file(value) is None:
            _check_database_url(value)
        return value

    def resolved_url(self) -> str:
        """The full URL, password included; creates nothing on disk."""
        password = self.resolved_password()
        return self._url(password.get_secret_value() if password is not None else None)

    def display_url(self) -> str:
        """The URL fit to print: its password (also one set by `password` or `password_file`)
        and secret query parameters masked (`printable_url`)."""
        has_password = self.password is not None or self.password_file is not None
        return printable_url(self._url(MASK if has_password else None))

    def secrets(self) -> set[str]:
        """The password setting and the secrets written in the URL, for `redact.scrub`."""
        password = self.resolved_password()
        secret = password.get_secret_value() if password is not None else ""
        return url_secrets(self.url or "") | ({secret} if secret else set())

    def missing_file(self) -> Path | None:
        """The SQLite file that the configured URL names, when that file does not exist;
        None when it exists, for a server URL, and when no URL is configured (the default
        file is made on first use)."""
        if self.url is None:
            return None
        path = sqlite_file(self._url(None))
        if path is None or str(path) == ":memory:" or path.exists():
            return None
        return path

    def _url(self, password: str | None) -> str:
        """The URL, with `password` added to a server URL that has none."""
        if self.url is None:
            db_file = Path(platformdirs.user_data_dir(APP_NAME)) / "wo-tui.db"
            return sqlite_url(db_file)
        if "://" not in self.url:
            return sqlite_url(Path(self.url).expanduser().absolute())
        if password is None or sqlite_file(self.url):
            return self.url  # nothing to add: no need to load SQLAlchemy
        from sqlalchemy.engine.url import make_url

        url = make_url(self.url)
        if url.password is None and url.get_backend_name() != "sqlite":
            url = url.set(password=password)
        return url.render_as_string(hide_password=False)


def _check_database_url(value: str) -> None:
    """Refuse a URL that SQLAlchemy cannot read, or would read other than meant: an SQLite
    URL with options (SQLAlchemy warns and ignores most of them; wo-tui sets its own), a
    password with a bare '@' (the rest of it would be taken for the host name)."""
    from sqlalchemy.engine.url import make_url

    try:
        url = make_url(value)
    except Exception:
        raise ValueError("not a valid database URL") from None
    if url.get_backend_name() == "sqlite" and url.query:
        raise ValueError(
            "an SQLite URL takes no options (the part from '?'): wo-tui sets its own "
            f"(WAL, a {BUSY_TIMEOUT_MS // 1000} s busy timeout); give the file alone, "
            "e.g. sqlite:////srv/wo-tui.db"
        )
    if url.host and "@" in url.host:
        raise ValueError("write an '@' in the user name or password as %40")


class SmtpSettings(_PasswordSettings):
    """The mail server that work orders are sent through."""

    host: str = Field("localhost", description="Mail server host name.")
    port: int | None = Field(None, ge=1, le=65535, description="Unset = 587/465/25 by `tls`.")
    tls: Literal["starttls", "implicit", "none"] = Field("starttls", description="TLS mode.")
    verify_certificate: bool = Field(True, description="Verify the server's TLS certificate.")
    ca_file: Path | None = Field(None, description="Extra CA bundle to trust (PEM).")
    username: str | None = Field(None, description="Login name; unset = no authentication.")
    from_address: str = Field("wo-tui@localhost", description="Sender address of every email.")
    timeout_seconds: float = Field(30.0, gt=0, description="Timeout of each socket operation.")
    send_deadline_seconds: float = Field(120.0, gt=0, description="Deadline for a whole send.")
    max_attempts: int = Field(8, ge=1, description="Attempts before an email is marked failed.")
    connections: int = Field(
        4, ge=1, le=20, description="SMTP connections opened at once when many emails are due."
    )
    templates_dir: Path | None = Field(
        None,
        description=(
            "Directory of email templates that replace the shipped ones file by file "
            "(e.g. assignment.subject, assignment.txt, assignment.html); unset = shipped only."
        ),
    )
    poll_interval_seconds: float = Field(5.0, gt=0, description="Seconds between outbox runs.")
    send_from_app: bool = Field(True, description="The app sends too (not only `wo-tui worker`).")
    pause_seconds: float = Field(
        60.0, gt=0, description="How long a refused login pauses sending, in every sender."
    )
    shutdown_grace_seconds: float = Field(
        10.0, ge=0, description="On stop, how long sends in progress may take to finish."
    )
    breaker_timeouts: int = Field(
        3, ge=1, description="Timeouts in a row after which this sender stops for a while."
    )
    breaker_pause_seconds: float = Field(
        60.0, gt=0, description="How long a sender stops after `breaker_timeouts` timeouts."
    )

    @field_validator("from_address")
    @classmethod
    def _address_ok(cls, value: str) -> str:
        try:
            mailbox(value)
        except NotAnAddress as exc:
            raise ValueError(f"not an email address: {exc}") from None
        return value

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"CA file {value.expanduser()} does not exist")
        return None if value is None else value.expanduser()

    @field_validator("templates_dir")
    @classmethod
    def _templates_dir_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_dir():
            raise ValueError(f"templates directory {value.expanduser()} does not exist")
        return None if value is None else value.expanduser()

    def effective_port(self) -> int:
        """The configured port, else the standard one for the TLS mode."""
        if self.port is not None:
            return self.port
        return {"starttls": 587, "implicit": 465, "none": 25}[self.tls]


def _known_binding_id(binding_id: str) -> str:
    if binding_id not in BINDING_IDS:
        also = did_you_mean(binding_id, sorted(BINDING_IDS))
        raise ValueError(f"unknown binding id {binding_id!r}{also}")
    return binding_id


class UiSettings(BaseModel):
    """The terminal interface."""

    model_config = _SECTION
    theme: str = Field("textual-dark", description="Textual theme name.")
    color_mode: ColorMode = Field("auto", description="Colours; auto trusts the terminal.")
    refresh_interval_seconds: float = Field(5.0, ge=0.5, description="Seconds between refreshes.")
    keymap: dict[Annotated[str, AfterValidator(_known_binding_id)], str] = Field(
        default_factory=dict, description="Binding id -> keys (comma separated)."
    )


def _login_name() -> str:
    try:
        return getpass.getuser() or "unknown"
    except Exception:
        return "unknown"


class OperatorSettings(BaseModel):
    """Who is using this copy of the program (recorded in the audit trail)."""

    model_config = _SECTION
    name: str = Field(default_factory=_login_name, description="Name recorded on every change.")

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        if any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in value):
            raise ValueError("must not contain control characters")
        return value


def _nearest_zone(name: str) -> str:
    """The tz database name closest to `name` (case, a city alone, a typo), as a hint."""
    names = sorted(available_timezones())
    if not names:
        return "; this machine has no time zone database: install the tzdata package"
    by_lower = {n.lower(): n for n in names}
    by_city = {n.rsplit("/", 1)[-1].lower(): n for n in names}
    wanted = "_".join(name.split()).lower()
    for table in (by_lower, by_city):
        if wanted in table:
            return f"; did you mean {table[wanted]!r}?"
        close = difflib.get_close_matches(wanted, list(table), n=1)
        if close:
            return f"; did you mean {table[close[0]]!r}?"
    return "; use a tz database name such as 'Australia/Sydney'"


class SlaSettings(BaseModel):
    """Service levels: the utility's time zone, for every date and time of day, and its
    public holidays, which are not business days."""

    model_config = _SECTION
    timezone: str | None = Field(
        None,
        description=(
            "The utility's time zone, a tz database name such as Australia/Sydney: 'today', "
            "due dates, overdue and every time shown follow it; unset = this machine's."
        ),
    )

    holidays: str | None = Field(
        None,
        description=(
            "Whose public holidays are not business days: a country code and maybe a "
            "subdivision, such as AU-NSW; unset = every Monday to Friday is a business day."
        ),
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (KeyError, ValueError, OSError):  # not found, not a relative path, a folder
            raise ValueError(f"unknown time zone{_nearest_zone(value)}") from None
        return value

    @field_validator("holidays")
    @classmethod
    def _known_region(cls, value: str | None) -> str | None:
        return check_region(value)

    def zone(self) -> Zone:
        """The zone to compute dates in (None: the machine's own, as `TZ` says)."""
        return None if self.timezone is None else ZoneInfo(self.timezone)

    def calendar(self) -> BusinessDays:
        """The business days that due dates count (Monday to Friday, less the holidays)."""
        return BusinessDays(self.holidays)


@dataclass(frozen=True)
class _Origin:
    """Where the settings came from: what a problem's line names as its source."""

    file_label: str
    overrides: dict[str, Any]
    env_names: dict[str, str]
    """The WO_TUI_* variables set, by their lower-case name."""

    def problem(self, loc: tuple[str, ...], msg: str) -> str:
        """One line for a problem with the setting at `loc`, naming where it was set: the
        command line, the environment variable or the file."""
        if _model_at(loc) is not None:
            key = f"[{_toml_key(loc)}]"
        else:
            key = (
                f"[{_toml_key(loc[:-1])}] {_toml_key(loc[-1:])}" if len(loc) > 1 else _toml_key(loc)
            )
        node: Any = self.overrides
        for part in loc:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return f"command-line override {key}: {msg}"
        for n in range(len(loc), 0, -1):
            name = self.env_names.get((ENV_PREFIX + "__".join(loc[:n])).lower())
            if name is not None:
                return f"environment variable {name}: {msg if n == len(loc) else f'{key}: {msg}'}"
        return f"{self.file_label}: {key}: {msg}"


class Settings(BaseSettings):
    """Everything the program can be told; see config.example.toml."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        hide_input_in_errors=True,
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="Storage.")
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="Outgoing email.")
    events: EventsSettings = Field(default_factory=EventsSettings, description="Event poller.")
    ui: UiSettings = Field(default_factory=UiSettings, description="Terminal interface.")
    operator: OperatorSettings = Field(default_factory=OperatorSettings, description="The user.")
    sla: SlaSettings = Field(default_factory=SlaSettings, description="Dates and time zone.")
    _origin: _Origin | None = PrivateAttr(None)
    """Where the values came from (set by `load_settings`), to name it in a problem."""


class ConfigError(Exception):
    """A configuration that cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _MappingEnvSource(EnvSettingsSource):
    """The environment source, reading a given mapping instead of os.environ."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k.lower(): v for k, v in self._environ.items()}


def locate_config(
    config_path: Path | None = None, *, environ: Mapping[str, str] | None = None
) -> tuple[Path | None, str]:
    """The config file that would be used, and why."""
    environ = os.environ if environ is None else environ
    if config_path is not None:
        return Path(config_path).expanduser(), "--config"
    if environ.get("WO_TUI_CONFIG"):
        return Path(environ["WO_TUI_CONFIG"]).expanduser(), "$WO_TUI_CONFIG"
    default = Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"
    if default.is_file():
        return default, "default location"
    return None, "none found; defaults apply"


def _read_toml(path: Path, why: str) -> dict[str, Any]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError([f"{path}: cannot read config file (from {why}): {reason}"]) from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: config file is not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        reason, _, where = str(exc).partition(" (at ")
        if "character" in reason:  # the message quotes the character: keep it out
            reason = reason[: reason.index("character") + len("character")]
        where = where.rstrip(")") or "unknown position"
        raise ConfigError([f"{path}: invalid TOML at {where}: {reason}"]) from None


def _model_at(loc: tuple[str, ...]) -> type[BaseModel] | None:
    """The settings model found at `loc`, skipping dict keys; None if not a model."""
    model: type[BaseModel] = Settings
    parts = list(loc)
    while parts:
        field = model.model_fields.get(parts.pop(0))
        annotation = field.annotation if field else None
        if get_origin(annotation) is dict and parts:
            parts.pop(0)
            annotation = get_args(annotation)[1]
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model


def _toml_key(parts: tuple[str, ...]) -> str:
    return ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else f'"{p}"' for p in parts)


def _problem(error: Any, origin: _Origin) -> str:
    loc = tuple(str(p) for p in error["loc"] if p != "[key]")
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        msg = "unknown key" + did_you_mean(loc[-1], (_model_at(loc[:-1]) or Settings).model_fields)
    return origin.problem(loc, msg)


def _keymap_problems(settings: Settings, origin: _Origin) -> list[str]:
    """A line for each key the keymap gives to a second action of one screen."""
    described = {b.id: b.description for b in ALL_BINDINGS}
    return [
        origin.problem(
            ("ui", "keymap", clash.binding_id),
            f"key {clash.key!r} is already bound to {clash.other_id} "
            f"({described[clash.other_id]}) on the {clash.screen} screen",
        )
        for clash in keymap_clashes(settings.ui.keymap)
    ]


def order_type_problems(settings: Settings, known: Collection[str]) -> list[str]:
    """A line for each enabled event rule whose `order_type` is not among `known` (the
    active work-order types of the database, see `Runtime.database`)."""
    origin = settings._origin or _Origin("settings", {}, {})
    listed = ", ".join(sorted(known))
    return [
        origin.problem(
            ("events", "rules", event, "order_type"),
            f"unknown work-order type {rule.order_type!r}"
            f"{did_you_mean(rule.order_type, known) or ';'} known: {listed}",
        )
        for event, rule in settings.events.rules.items()
        if rule.enabled and rule.order_type not in known
    ]


NON_SETTING_VARIABLES = ("WO_TUI_CONFIG", "WO_TUI_TEST_DATABASE_URL", "WO_TUI_BENCH_PG_URL")
"""WO_TUI_* variables that are not settings: the config file, and the test suite's and the
benchmarks' database servers."""


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """A warning for each WO_TUI_* variable that sets nothing (a typo such as one
    underscore for two), with the nearest real name; never its value."""
    known = list(NON_SETTING_VARIABLES)
    free: tuple[str, ...] = ()  # tables of free keys (event rules, keymap): any name below
    for section, field in Settings.model_fields.items():
        known.append(f"{ENV_PREFIX}{section}".upper())
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for key, sub in model.model_fields.items():
                known.append(f"{ENV_PREFIX}{section}__{key}".upper())
                if get_origin(sub.annotation) is dict:
                    free += (f"{ENV_PREFIX}{section}__{key}__".upper(),)
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith(ENV_PREFIX) and upper not in known and not upper.startswith(free):
            # Compared without the prefix all of them share, which would make any name close.
            names = [k.removeprefix(ENV_PREFIX) for k in known]
            hint = difflib.get_close_matches(upper.removeprefix(ENV_PREFIX), names, n=1)
            also = f"; did you mean {ENV_PREFIX}{hint[0]}?" if hint else ""
            warnings.append(f"environment variable {name} is not a setting and is ignored{also}")
    return warnings


def load_settings(
    config_path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Build the settings: `overrides` > environment > TOML file > defaults, deep-merged."""
    env_map = dict(os.environ if environ is None else environ)
    overrides = overrides or {}
    path, why = locate_config(config_path, environ=env_map)
    file_data = _read_toml(path, why) if path is not None else {}
    origin = _Origin(
        str(path) if path is not None else "settings",
        overrides,
        {k.lower(): k for k in env_map if k.upper().startswith(ENV_PREFIX)},
    )

    class _Loading(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            env = _MappingEnvSource(settings_cls, env_map)
            return init_settings, env, InitSettingsSource(settings_cls, file_data)

    problems: list[str] = []
    try:
        loaded = _Loading(**overrides)
    except SettingsError as exc:  # e.g. invalid JSON in a WO_TUI_* variable
        section = m.group(1) if (m := re.search(r'field "(\w+)"', str(exc))) else ""
        problems.append(f"environment: invalid JSON in a {ENV_PREFIX}{section.upper()}* variable")
    except ValidationError as exc:
        problems = [_problem(e, origin) for e in exc.errors()]
    if problems:  # raised outside the except blocks: no chained error carries input values
        raise ConfigError(problems)
    settings = Settings.model_construct(_fields_set=loaded.model_fields_set, **dict(loaded))
    settings._origin = origin
    if problems := _keymap_problems(settings, origin):
        raise ConfigError(problems)
    return settings


def _show(value: Any) -> str:
    if value is None:
        return "(not set)"
    if isinstance(value, SecretStr):
        return "********"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | Path):
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in text) + '"'
    return str(value)


def describe(settings: Settings) -> str:
    """A human summary of every value in effect, secrets masked (for `wo-tui config check`)."""
    lines: list[str] = []

    def section(title: str, model: BaseModel, extra: dict[str, str]) -> None:
        lines.append(f"[{title}]")
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, dict) and name in ("rules", "keymap"):
                continue
            lines.append(f"{name} = {extra.get(name, _show(value))}")
        lines.append("")

    db, smtp = settings.database, settings.smtp
    section("database", db, {"url": _show(db.display_url())})
    section("smtp", smtp, {"port": f"{smtp.effective_port()}" + ("" if smtp.port else " (auto)")})
    section("events", settings.events, {})
    for event, rule in settings.events.rules.items():
        section(f"events.rules.{_toml_key((event,))}", rule, {})
    section("ui", settings.ui, {})
    lines.append("[ui.keymap]")
    lines += [f"{_toml_key((k,))} = {_show(v)}" for k, v in settings.ui.keymap.items()]
    lines += ["" if settings.ui.keymap else "(no changes)", ""]
    section("operator", settings.operator, {})
    sla = settings.sla
    zone_now = f"{describe_zone(sla.zone(), utc_now())} now"
    zone = (
        f"{_show(sla.timezone)} ({zone_now})"
        if sla.timezone
        else f"(not set: this machine's, {zone_now})"
    )
    today = local_time(utc_now(), sla.zone()).date()
    days = sla.calendar().describe(today)
    holidays = f"{_show(sla.holidays)} ({days})" if sla.holidays else f"(not set: {days})"
    section("sla", sla, {"timezone": zone, "holidays": holidays})
    return "\n".join(lines).rstrip() + "\n"
