"""The configuration loader: sources, priorities, error messages and secrets."""

from __future__ import annotations

import os
import re
import tomllib
import traceback
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from wo_tui.config import (
    ConfigError,
    Settings,
    describe,
    load_settings,
    locate_config,
)
from wo_tui.core.event_settings import DEFAULT_RULES
from wo_tui.keys import ALL_BINDINGS

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
CANARY = "CANARY-s3cret-9f1"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point platformdirs at empty directories so no real user file is read."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("WO_TUI_CONFIG", raising=False)


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def load_error(*args: object, **kwargs: object) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(*args, **kwargs)  # type: ignore[arg-type]
    return info.value


# --- defaults and locating the file ---------------------------------------------------------


def test_defaults_without_file_use_sqlite_in_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={})
    data_dir = tmp_path / "xdg-data" / "wo-tui"
    assert settings.database.resolved_url() == f"sqlite:///{data_dir}/wo-tui.db"
    assert not data_dir.exists(), "resolving the URL must create nothing on disk"
    assert settings.smtp.effective_port() == 587
    assert settings.smtp.tls == "starttls" and settings.smtp.verify_certificate
    assert set(settings.events.rules) == set(DEFAULT_RULES)
    assert settings.ui.keymap == {}
    assert settings.operator.name
    assert type(settings) is Settings


def test_locate_config_reasons(tmp_path: Path) -> None:
    explicit = tmp_path / "x.toml"
    assert locate_config(explicit, environ={}) == (explicit, "--config")
    assert locate_config(environ={"WO_TUI_CONFIG": str(explicit)}) == (explicit, "$WO_TUI_CONFIG")
    assert locate_config(environ={}) == (None, "none found; defaults apply")
    default = tmp_path / "xdg-config" / "wo-tui" / "config.toml"
    default.parent.mkdir(parents=True)
    write(default, "[smtp]\nhost = 'from-default'\n")
    assert locate_config(environ={}) == (default, "default location")
    assert load_settings(environ={}).smtp.host == "from-default"


def test_wo_tui_config_variable_selects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "c.toml", "[smtp]\nhost = 'from-env-path'\n")
    assert load_settings(environ={"WO_TUI_CONFIG": str(path)}).smtp.host == "from-env-path"


@pytest.mark.parametrize("via", ["argument", "environment"])
def test_missing_config_file_is_an_error_naming_it(tmp_path: Path, via: str) -> None:
    missing = tmp_path / "nope.toml"
    if via == "argument":
        error = load_error(missing, environ={})
    else:
        error = load_error(environ={"WO_TUI_CONFIG": str(missing)})
    assert str(missing) in str(error)
    assert len(error.problems) == 1


# --- the example file -----------------------------------------------------------------------


def test_example_loads_and_equals_the_defaults() -> None:
    example = load_settings(EXAMPLE, environ={}).model_dump()
    defaults = load_settings(environ={}).model_dump()
    keymap = example["ui"].pop("keymap")
    defaults["ui"].pop("keymap")
    assert example == defaults
    default_keys = {b.id: b.keys for b in ALL_BINDINGS}
    assert keymap == {"app.quit": "Q,ctrl+q"}
    assert all(default_keys[k] == v for k, v in keymap.items())


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    for section, field in Settings.model_fields.items():
        model = field.annotation
        assert model is not None
        for key in model.model_fields:
            if key in ("rules", "keymap"):
                continue
            written = key in data.get(section, {})
            commented = re.search(rf"^# {key} = ", text, re.MULTILINE)
            assert written or commented, f"[{section}] {key} is not documented"
    assert set(data["events"]["rules"]) == set(DEFAULT_RULES)


# --- error messages -------------------------------------------------------------------------


def test_invalid_toml_reports_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[smtp]\nhost = \n")
    error = load_error(path, environ={})
    assert str(path) in str(error)
    assert "line 2" in str(error) and "column" in str(error)


def test_typo_in_a_section_names_file_key_and_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[smtp]\nprot = 25\n")
    error = load_error(path, environ={})
    assert error.problems == [f"{path}: [smtp] prot: unknown key; did you mean 'port'?"]


def test_typo_in_a_section_name_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[smpt]\nport = 25\n")
    assert "did you mean 'smtp'?" in str(load_error(path, environ={}))


def test_wrong_type_names_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[smtp]\nport = "abc"\n')
    (problem,) = load_error(path, environ={}).problems
    assert problem.startswith(f"{path}: [smtp] port: Input should be a valid integer")


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[smtp]\nport = 'x'\n[events]\nbatch_size = 0\n")
    error = load_error(path, environ={})
    assert len(error.problems) == 2
    assert str(error) == "\n".join(error.problems)


# --- priorities -----------------------------------------------------------------------------


def test_environment_beats_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[smtp]\nport = 25\nhost = 'mail'\n")
    settings = load_settings(path, environ={"WO_TUI_SMTP__PORT": "2525"})
    assert settings.smtp.port == 2525
    assert settings.smtp.host == "mail", "the rest of the section is kept"


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[smtp]\nport = 25\n")
    (problem,) = load_error(path, environ={"WO_TUI_SMTP__PORT": "abc"}).problems
    assert problem.startswith("environment variable WO_TUI_SMTP__PORT: ")
    assert str(path) not in problem


def test_overrides_beat_the_environment_and_merge_deeply(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[database]\npool_size = 3\n")
    settings = load_settings(
        path,
        environ={"WO_TUI_DATABASE__URL": "sqlite:///env.db", "WO_TUI_SMTP__HOST": "envhost"},
        overrides={"database": {"url": "sqlite:///cli.db"}},
    )
    assert settings.database.url == "sqlite:///cli.db"
    assert settings.database.pool_size == 3
    assert settings.smtp.host == "envhost"


def test_bad_override_is_named_as_such() -> None:
    error = load_error(environ={}, overrides={"database": {"pool_size": 0}})
    assert error.problems[0].startswith("command-line override [database] pool_size:")


# --- keymap and event rules -----------------------------------------------------------------


def test_unknown_keymap_id_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[ui.keymap]\n"app.quitt" = "q"\n')
    (problem,) = load_error(path, environ={}).problems
    assert "unknown binding id 'app.quitt'; did you mean 'app.quit'?" in problem
    assert "[ui.keymap]" in problem


def test_a_rule_override_keeps_the_other_rules(tmp_path: Path) -> None:
    text = "[events.rules.move_in]\npriority = 'Low'\ndue_in_business_days = 2\n"
    settings = load_settings(write(tmp_path / "config.toml", text), environ={})
    rules = settings.events.rules
    assert set(rules) == set(DEFAULT_RULES)
    assert rules["move_in"].order_type == "RECONNECT"
    assert (rules["move_in"].priority, rules["move_in"].due_in_business_days) == ("Low", 2)
    assert rules["move_out"].also_final_read
    assert rules["non_payment"].reason == "non-payment"
    assert rules["payment_received"].link_to_non_payment_disconnection


def test_a_new_event_needs_an_order_type(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[events.rules.move_inn]\npriority = 'Low'\n")
    assert "did you mean 'move_in'?" in str(load_error(path, environ={}))
    write(path, "[events.rules.meter_fault]\norder_type = 'MISC'\n")
    assert load_settings(path, environ={}).events.rules["meter_fault"].order_type == "MISC"


def test_order_type_must_be_an_uppercase_code(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", "[events.rules.move_in]\norder_type = 'reconnect'\n")
    assert "[events.rules.move_in] order_type:" in str(load_error(path, environ={}))


def test_rules_from_the_environment() -> None:
    environ = {"WO_TUI_EVENTS__RULES__MOVE_IN__PRIORITY": "Low"}
    rules = load_settings(environ=environ).events.rules
    assert rules["move_in"].priority == "Low" and rules["move_in"].order_type == "RECONNECT"


# --- passwords ------------------------------------------------------------------------------


@pytest.mark.parametrize("section", ["smtp", "database"])
def test_group_readable_password_file_is_refused(tmp_path: Path, section: str) -> None:
    secret = write(tmp_path / "pw", "hunter2\n", mode=0o644)
    path = write(tmp_path / "config.toml", f"[{section}]\npassword_file = '{secret}'\n")
    (problem,) = load_error(path, environ={}).problems
    assert str(secret) in problem and "0644" in problem and f"chmod 600 {secret}" in problem
    assert f"[{section}] password_file" in problem


@pytest.mark.parametrize("section", ["smtp", "database"])
def test_owner_only_password_file_is_read(tmp_path: Path, section: str) -> None:
    secret = write(tmp_path / "pw", "hunter2\n", mode=0o600)
    path = write(tmp_path / "config.toml", f"[{section}]\npassword_file = '{secret}'\n")
    password = getattr(load_settings(path, environ={}), section).resolved_password()
    assert password is not None and password.get_secret_value() == "hunter2"


def test_missing_password_file_is_refused(tmp_path: Path) -> None:
    environ = {"WO_TUI_SMTP__PASSWORD_FILE": str(tmp_path / "absent")}
    (problem,) = load_error(environ=environ).problems
    assert problem.startswith("environment variable WO_TUI_SMTP__PASSWORD_FILE:")
    assert "does not exist" in problem


def test_password_and_password_file_together_are_refused(tmp_path: Path) -> None:
    secret = write(tmp_path / "pw", "hunter2", mode=0o600)
    path = write(tmp_path / "config.toml", f"[smtp]\npassword_file = '{secret}'\n")
    error = load_error(path, environ={"WO_TUI_SMTP__PASSWORD": "x"})
    assert "not both" in str(error)


def test_database_password_goes_into_the_url_and_is_masked() -> None:
    environ = {
        "WO_TUI_DATABASE__URL": "postgresql+psycopg://wo@db.example/wo",
        "WO_TUI_DATABASE__PASSWORD": "p@ss word",
    }
    database = load_settings(environ=environ).database
    url = make_url(database.resolved_url())
    assert (url.username, url.password, url.host) == ("wo", "p@ss word", "db.example")
    assert database.display_url() == "postgresql+psycopg://wo:***@db.example/wo"


def test_display_url_does_not_read_the_password_file(tmp_path: Path) -> None:
    secret = write(tmp_path / "pw", "hunter2\n")
    environ = {
        "WO_TUI_DATABASE__URL": "postgresql://wo@db.example/wo",
        "WO_TUI_DATABASE__PASSWORD_FILE": str(secret),
    }
    database = load_settings(environ=environ).database
    assert make_url(database.resolved_url()).password == "hunter2"
    secret.unlink()
    assert database.display_url() == "postgresql://wo:***@db.example/wo"


def test_database_url_without_scheme_is_an_sqlite_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    database = load_settings(environ={"WO_TUI_DATABASE__URL": "orders.db"}).database
    assert database.resolved_url() == f"sqlite:///{tmp_path / 'orders.db'}"
    assert not (tmp_path / "orders.db").exists()


# --- other validation -----------------------------------------------------------------------


@pytest.mark.parametrize(("tls", "port"), [("starttls", 587), ("implicit", 465), ("none", 25)])
def test_effective_port_follows_tls(tls: str, port: int) -> None:
    assert load_settings(environ={"WO_TUI_SMTP__TLS": tls}).smtp.effective_port() == port


@pytest.mark.parametrize("address", ["a@b\r\nBcc: x@y", "not-an-address", "a @b"])
def test_bad_from_address_is_refused(address: str) -> None:
    (problem,) = load_error(environ={"WO_TUI_SMTP__FROM_ADDRESS": address}).problems
    assert problem.startswith("environment variable WO_TUI_SMTP__FROM_ADDRESS:")


@pytest.mark.parametrize("name", ["", "  ", "Jo\x1b]52;c;x\x07", "Jo\u202eeoJ"])
def test_bad_operator_name_is_refused(name: str) -> None:
    load_error(environ={"WO_TUI_OPERATOR__NAME": name})


def test_describe_shows_every_section_and_masks_secrets(tmp_path: Path) -> None:
    text = "[smtp]\npassword = 'hunter2'\n[ui.keymap]\n'queue.refresh' = 'f5'\n"
    settings = load_settings(write(tmp_path / "config.toml", text), environ={})
    summary = describe(settings)
    for section in ("[database]", "[smtp]", "[events]", "[events.rules.move_in]", "[ui]"):
        assert section in summary
    assert "[ui.keymap]" in summary and '"queue.refresh" = "f5"' in summary
    assert "[operator]" in summary and "password = ********" in summary
    assert "hunter2" not in summary and "port = 587 (auto)" in summary


# --- secrets never leak ---------------------------------------------------------------------

BAD_FILES = {
    "other field invalid": f"[smtp]\npassword = '{CANARY}'\nport = 'abc'\n",
    "typo beside it": f"[smtp]\npassword = '{CANARY}'\nprot = 1\n",
    "url password, pool invalid": (
        f"[database]\nurl = 'postgresql://u:{CANARY}@h/d'\npool_size = 0\n"
    ),
    "unparsable url": f"[database]\nurl = 'postgresql://u:{CANARY}@h:port/d'\n",
    "secret as port": f"[smtp]\nport = '{CANARY}'\n",
    "secret as tls": f"[smtp]\ntls = '{CANARY}'\n",
    "secret as address": f"[smtp]\nfrom_address = '{CANARY}'\n",
    "secret as colour": f"[ui]\ncolor_mode = '{CANARY}'\n",
    "secret as section": f"[smtp]\npassword = {{ value = '{CANARY}' }}\n",
    "bad toml": f"[smtp]\npassword = {CANARY}\n",
    "unterminated": f"[smtp]\npassword = '{CANARY}\n",
}


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_canary_in_a_bad_file_never_appears(tmp_path: Path, case: str) -> None:
    path = write(tmp_path / "config.toml", BAD_FILES[case])
    error = load_error(path, environ={})
    assert_no_canary(str(error), repr(error), "".join(traceback.format_exception(error)))


@pytest.mark.parametrize(
    "environ",
    [
        {"WO_TUI_SMTP__PASSWORD": CANARY, "WO_TUI_SMTP__PORT": "abc"},
        {"WO_TUI_DATABASE__PASSWORD": CANARY, "WO_TUI_DATABASE__POOL_SIZE": "0"},
        {"WO_TUI_SMTP": '{"password": "' + CANARY + '", "port": "x"}'},
        {"WO_TUI_SMTP": '{"password": "' + CANARY + '", '},
        {"WO_TUI_SMTP__PORT": CANARY},
    ],
)
def test_canary_in_the_environment_never_appears(environ: dict[str, str]) -> None:
    error = load_error(environ=environ)
    assert_no_canary(str(error), repr(error), "".join(traceback.format_exception(error)))


def test_canary_in_a_password_file_never_appears(tmp_path: Path) -> None:
    secret = write(tmp_path / "pw", CANARY + "\n", mode=0o644)
    path = write(tmp_path / "config.toml", f"[smtp]\npassword_file = '{secret}'\nport = 'x'\n")
    assert_no_canary(str(load_error(path, environ={})))
    secret.chmod(0o600)
    assert_no_canary(str(load_error(path, environ={})))


def test_canary_never_appears_in_loaded_settings(tmp_path: Path) -> None:
    secret = write(tmp_path / "pw", CANARY + "\n", mode=0o600)
    text = (
        f"[database]\nurl = 'postgresql+psycopg://u:{CANARY}@h/d?password={CANARY}'\n"
        f"[smtp]\npassword_file = '{secret}'\n"
    )
    path = write(tmp_path / "config.toml", text)
    settings = load_settings(path, environ={"WO_TUI_DATABASE__PASSWORD": CANARY})
    assert_no_canary(repr(settings), str(settings), describe(settings))
    assert_no_canary(settings.database.display_url(), repr(settings.database))
    resolved = settings.smtp.resolved_password()
    assert resolved is not None and resolved.get_secret_value() == CANARY
    assert_no_canary(repr(resolved), str(resolved))


def test_environment_password_never_appears_in_settings() -> None:
    environ = {
        "WO_TUI_DATABASE__URL": "postgresql://u@h/d",
        "WO_TUI_DATABASE__PASSWORD": CANARY,
        "WO_TUI_SMTP__PASSWORD": CANARY,
    }
    settings = load_settings(environ=environ)
    assert CANARY in settings.database.resolved_url()
    assert_no_canary(repr(settings), describe(settings), settings.database.display_url())


def test_no_real_environment_is_read_when_environ_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WO_TUI_SMTP__PORT", "not-a-port")
    assert load_settings(environ={}).smtp.port is None
    assert os.environ["WO_TUI_SMTP__PORT"] == "not-a-port"


def test_validation_errors_of_the_models_hide_their_input() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        Settings(smtp={"port": CANARY, "password": CANARY, "tls": CANARY})
    assert_no_canary(str(info.value))
