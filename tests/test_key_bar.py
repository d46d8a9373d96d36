"""The key bar at the bottom of every screen: it lists the keys that work now, follows the
focus and the keymap, leaves out whole keys that do not fit, and a click presses a key."""

from __future__ import annotations

from typing import Any

from test_dashboard import _app, jump, mixed_orders, settle, statuses
from textual.pilot import Pilot

from wo_tui.core.db import Database
from wo_tui.tui.app import WoTuiApp
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.dashboard import DashboardScreen
from wo_tui.tui.widgets.key_bar import KeyBar


def bar_text(app: WoTuiApp) -> str:
    bar = app.screen.query_one(KeyBar)
    return bar.render_line(0).text


def descriptions(app: WoTuiApp) -> list[str]:
    bar = app.screen.query_one(KeyBar)
    return [item.description for item in bar.items()[0]]


async def click_key(pilot: Pilot[Any], description: str) -> None:
    """Click in the middle of the key that does `description`."""
    bar = pilot.app.screen.query_one(KeyBar)
    text = bar.render_line(0).text
    at = text.index(f" {description} ")
    await pilot.click(KeyBar, offset=(at + 1, 0))


async def test_the_bar_lists_the_screen_keys_and_follows_the_focus(db: Database) -> None:
    mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        text = bar_text(app)
        for shown in ("space Mark", "c Complete", "x Cancel", "/ Filter", "? Help"):
            assert shown in text
        assert text.rstrip().endswith("▏^p palette")
        await pilot.press("slash")
        await pilot.pause()
        assert "c Complete" not in bar_text(app)  # in the filter, `c` is a letter
        assert "/ Filter" in bar_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert "c Complete" in bar_text(app)


async def test_the_bar_shows_a_remapped_key(db: Database) -> None:
    mixed_orders(db)
    app = _app(db, keymap={"queue.complete": "f9"})
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert "f9 Complete" in bar_text(app)
        assert " c Complete" not in bar_text(app)


async def test_at_80_columns_keys_that_do_not_fit_are_left_out_whole(db: Database) -> None:
    mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = bar_text(app)
        assert len(text) == 80
        assert text.endswith("▏^p palette")
        left = text[: text.index("▏")].strip()
        every = descriptions(app)
        assert 3 <= len(left.split("  ")) < len(every), text
        for part in left.split("  "):
            _key, _, description = part.partition(" ")
            assert description in every, f"{part!r} is cut: {text!r}"


async def test_a_click_on_a_key_presses_it(db: Database) -> None:
    o = mixed_orders(db)
    app = _app(db)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        await jump(pilot, o["misc"])
        await click_key(pilot, "Mark")
        await click_key(pilot, "Mark")
        await settle(pilot)
        assert statuses(db, [o["misc"]]) == {o["misc"]: "NEW"}
        await click_key(pilot, "Complete")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert "Complete 2 orders?" in str(app.screen.query_one("#dialog-title").render())
        await pilot.press("y")
        await settle(pilot)
        assert statuses(db, [o["misc"]]) == {o["misc"]: "COMPLETED"}
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        bar = app.screen.query_one(KeyBar)
        assert bar.key_at(140) is None  # between the keys and the palette: nothing
