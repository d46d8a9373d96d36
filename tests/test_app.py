"""The app shell: start-up on the dashboard, help, quitting, keymap, errors, packaging."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.screens.help import HelpScreen
from wo_tui.tui.terminal import apply_color_mode

from conftest import NOW, record_notices, wait_until


def _app(db: Database, **ui: object) -> WoTuiApp:
    settings = load_settings(None, environ={}, overrides={"ui": {"theme": "textual-dark", **ui}})
    return make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))


async def test_starts_on_the_dashboard(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)


async def test_help_lists_keys_and_closes(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-keys").render())
        assert "Complete" in shown and "Cancel" in shown and "Quit" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_help_fits_80x24_one_line_per_action_and_scrolls(db: Database) -> None:
    """At 80x24 the keys do not fit: the list scrolls from the keyboard, each action is one
    line with all its keys, and wo-tui's actions come before Textual's (focus, copy)."""
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        lines = str(app.screen.query_one("#help-keys").render()).splitlines()
        downs = [line for line in lines if line.endswith("  Down")]
        assert len(downs) == 1 and downs[0].split() == ["j", "↓", "Down"]
        order = [line.split("  ")[-1].strip() for line in lines]
        assert order.index("Complete") < order.index("Focus Next")
        box = app.screen.query_one("#help")
        assert box.max_scroll_y > 0  # more lines than the terminal shows
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.parametrize("key", ["q", "Q", "ctrl+q"])
async def test_quit_keys(db: Database, key: str) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press(key)
    assert app.return_code == 0


async def test_unknown_theme_falls_back_with_a_notice(db: Database) -> None:
    app = _app(db, theme="no-such-theme")
    said = record_notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.theme == "textual-dark"
        assert any("no-such-theme" in m for m in said)


async def test_worker_failure_becomes_a_visible_error(db: Database) -> None:
    app = _app(db)
    messages = record_notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()

        def broken() -> None:
            raise RuntimeError("disk on fire")

        app.run_worker(broken, thread=True, name="test job", exit_on_error=False)
        await wait_until(
            pilot, lambda: any("test job failed" in m and "disk on fire" in m for m in messages)
        )


def test_color_mode_sets_the_environment() -> None:
    env: dict[str, str] = {}
    apply_color_mode("16", env)
    assert env == {"TEXTUAL_COLOR_SYSTEM": "standard"}
    env = {}
    apply_color_mode("none", env)
    assert env == {"NO_COLOR": "1"}
    env = {}
    apply_color_mode("auto", env)
    assert env == {}


def test_wheel_carries_styles_and_migrations(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
    )
    (wheel,) = tmp_path.glob("wo_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    sheets = sorted((root / "styles").glob("*.tcss"))
    assert sheets
    for sheet in sheets:
        assert f"wo_tui/styles/{sheet.name}" in names
    assert "wo_tui/core/migrations/versions/0001_initial_schema.py" in names
    assert "wo_tui/core/migrations/script.py.mako" in names


async def test_crash_report_shows_no_local_variables(db: Database) -> None:
    app = _app(db)
    canary = "CANARY-local-secret-4411"

    def explode() -> None:
        password = canary
        raise RuntimeError(f"boom {len(password)}")

    async with app.run_test(size=(80, 24)):
        try:
            explode()
        except RuntimeError:
            app._fatal_error()  # what Textual calls on an unhandled exception
        rendered = "".join(
            segment.text for renderable in app._exit_renderables for segment in renderable.segments
        )
    assert "boom 24" in rendered
    assert canary not in rendered


async def test_no_color_renders_an_empty_queue(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.no_color
        assert app.is_running
