"""The app shell: bucket counts, help, keymap, quitting, look (snapshots), packaging."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import NOW
from wo_tui.app import WoTuiApp, make_app
from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.orders import create_order
from wo_tui.core.seed import seed_orders
from wo_tui.screens.help import HelpScreen
from wo_tui.screens.home import BucketTile


def _app(db: Database, **ui: object) -> WoTuiApp:
    settings = load_settings(None, environ={}, overrides={"ui": {"theme": "textual-dark", **ui}})
    return make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))


def _count(app: WoTuiApp, bucket: str) -> str:
    return str(app.screen.query_one(f"#bucket-{bucket}", BucketTile).render())


async def test_counts_shown_and_refreshed(db: Database, ctx: Context) -> None:
    seed_orders(ctx, 40, seed=5)
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        from wo_tui.core.queue import count_buckets

        with db.read() as conn:
            counts = count_buckets(conn, ctx.today())
        assert _count(app, "all").startswith(f"{counts.all:,}")
        assert _count(app, "new").startswith(f"{counts.new:,}")
        assert "updated 09:30:00" in str(app.screen.query_one("#updated").render())
        create_order(ctx, {"type_code": "MISC", "site_address": "1 New St"})
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _count(app, "all").startswith(f"{counts.all + 1:,}")


async def test_help_lists_keys_and_closes(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        shown = str(app.screen.query_one("#help-keys").render())
        assert "Refresh" in shown and "Quit" in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_quit_keys(db: Database) -> None:
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.return_code == 0


async def test_keymap_from_config_remaps_by_id(db: Database, ctx: Context) -> None:
    app = _app(db, keymap={"home.refresh": "f5"})
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        create_order(ctx, {"type_code": "MISC", "site_address": "1 New St"})
        await pilot.press("r")  # no longer bound
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _count(app, "all").startswith("0")
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert _count(app, "all").startswith("1")


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_home_snapshot(snap_compare, db: Database, ctx: Context, size: tuple[int, int]) -> None:
    seed_orders(ctx, 60, seed=11)

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(_app(db), terminal_size=size, run_before=settle)


def test_help_snapshot(snap_compare, db: Database) -> None:
    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.app.workers.wait_for_complete()
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(_app(db), terminal_size=(80, 24), run_before=settle)


@pytest.mark.slow
def test_wheel_carries_styles(tmp_path: Path) -> None:
    root = Path(__file__).parent.parent
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
    )
    (wheel,) = tmp_path.glob("wo_tui-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for sheet in (root / "styles").glob("*.tcss"):
        assert f"wo_tui/styles/{sheet.name}" in names
    assert "wo_tui/core/migrations/versions/0001_initial_schema.py" in names
    assert "wo_tui/core/migrations/script.py.mako" in names
