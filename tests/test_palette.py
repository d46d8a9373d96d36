"""The command palette (ctrl+p): typing part of an action's name lists the app's actions
(wo_tui/tui/commands.py) with their key, and choosing one runs it on the screen the palette was
opened from, as the key would."""

from __future__ import annotations

from typing import Any

from test_dashboard import (
    SIZE,
    _app,
    add_assignee,
    add_orders,
    counts_part,
    dashboard,
    db_orders,
    is_marked_on_screen,
    mark,
    n,
    notes,
    settle,
    shown_numbers,
    status_line,
    statuses,
    text_of,
)
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import Input

from wo_tui.core.db import Database
from wo_tui.tui.app import WoTuiApp
from wo_tui.tui.screens.assignees import AssigneesScreen
from wo_tui.tui.screens.confirm import ConfirmBulkScreen
from wo_tui.tui.screens.outcome import BatchOutcomeScreen


def offered(app: WoTuiApp) -> dict[str, str]:
    """The palette's list as shown: each command's name and the line under it."""
    listed = app.screen.query_one(CommandList)
    found: dict[str, str] = {}
    for i in range(listed.option_count):
        name, _, help_line = str(listed.get_option_at_index(i).prompt).partition("\n")
        found.setdefault(name, help_line)
    return found


async def search(pilot: Pilot[Any], text: str) -> dict[str, str]:
    """Open the palette, type `text`, and return what it lists once the search is done."""
    await pilot.press("ctrl+p")
    await pilot.pause()
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*text)
    await settle(pilot)  # the palette searches in a worker
    return offered(pilot.app)  # type: ignore[arg-type]


async def choose(pilot: Pilot[Any], name: str) -> None:
    """Move the palette's highlight to the command called `name` and press Enter."""
    listed = pilot.app.screen.query_one(CommandList)
    for _ in range(listed.option_count):
        highlighted = listed.highlighted
        assert highlighted is not None
        if str(listed.get_option_at_index(highlighted).prompt).partition("\n")[0] == name:
            break
        await pilot.press("down")
    else:
        raise AssertionError(f"{name!r} is not in the palette")
    await pilot.press("enter")
    await settle(pilot)


async def test_palette_lists_the_dashboard_actions_and_runs_mark_all(db: Database) -> None:
    ids = add_orders(db, [{} for _ in range(5)])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space")  # marks the first row
        # Opened with nothing typed, it offers every action of the dashboard, and none of
        # the detail's or the all-orders view's (they cannot run here).
        everything = await search(pilot, "")
        assert {"Mark", "Mark all", "Complete", "Cancel", "Filter", "All orders"} <= set(everything)
        assert not {"Hold", "Reopen", "Note"} & set(everything)
        # Esc closes the palette only: the dashboard's Esc (clear marks) does not run.
        await pilot.press("escape")
        await settle(pilot)
        assert dashboard(app).view.marks == {ids[0]}
        assert counts_part(app) == "1 marked / 5 shown / 5 open"

        listed = await search(pilot, "mark")
        assert {"Mark", "Mark all", "Invert marks", "Clear marks"} <= set(listed)
        assert "Complete" not in listed
        assert listed["Mark all"] == "key: ^a"  # as the help screen writes ctrl+a
        await choose(pilot, "Mark all")
        assert dashboard(app).view.marks == set(ids)
        assert all(is_marked_on_screen(app, i) for i in ids)
        assert counts_part(app) == "5 marked / 5 shown / 5 open"
        assert "5 orders matching the filter are marked" in notes(app)


async def test_palette_complete_asks_first_and_completes_the_marked_orders(
    db: Database,
) -> None:
    ids = add_orders(db, [{} for _ in range(4)])
    before = db_orders(db, ids)
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await mark(pilot, ids[0], ids[2])
        listed = await search(pilot, "complete")
        assert listed["Complete"] == "key: c"
        await choose(pilot, "Complete")
        assert isinstance(app.screen, ConfirmBulkScreen)
        assert text_of(app, "#dialog-title") == "Complete 2 orders?"
        assert db_orders(db, ids) == before  # nothing before the answer
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, BatchOutcomeScreen)
        assert text_of(app, "#dialog-title") == "2 completed, 0 skipped, 0 conflicts"
        await pilot.press("escape")
        await settle(pilot)
        assert shown_numbers(app) == [n(ids[1]), n(ids[3])]
        assert counts_part(app) == "0 marked / 2 shown / 2 open"
    assert statuses(db, ids) == {
        ids[0]: "COMPLETED",
        ids[1]: "NEW",
        ids[2]: "COMPLETED",
        ids[3]: "NEW",
    }
    assert db_orders(db, [ids[0]])[ids[0]]["completed_by"] == "dispatcher-a"


async def test_palette_filter_opens_the_line_and_takes_what_is_typed(db: Database) -> None:
    ann, bob, cat = add_orders(
        db, [{"customer_name": name} for name in ("Ann Smith", "Bob Jones", "Cat Smith")]
    )
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await search(pilot, "filter")
        await choose(pilot, "Filter")
        box = dashboard(app).query_one("#filter", Input)
        assert box.display and box.has_focus
        await pilot.press(*"smith")
        await settle(pilot)
        assert box.value == "smith"
        assert shown_numbers(app) == [n(ann), n(cat)]
        await pilot.press("enter")
        assert "/smith" in status_line(app)
        assert counts_part(app) == "0 marked / 2 shown / 3 open"
        assert n(bob) not in shown_numbers(app)


async def test_palette_runs_an_app_action_that_opens_a_screen(db: Database) -> None:
    add_assignee(db, "Sam Carter")
    add_orders(db, [{}])
    app = _app(db)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        listed = await search(pilot, "tech")
        assert listed["Technicians"] == "key: T"
        await choose(pilot, "Technicians")
        assert isinstance(app.screen, AssigneesScreen)
        shown = "\n".join(s.text for s in app.screen._compositor.render_strips())
        assert "Sam Carter" in shown
        await pilot.press("escape")
        await settle(pilot)
        dashboard(app)  # back on the queue


async def test_palette_shows_the_key_the_keymap_set(db: Database) -> None:
    add_orders(db, [{}])
    app = _app(db, keymap={"queue.complete": "f9"})
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        listed = await search(pilot, "complete")
        assert listed["Complete"] == "key: f9"  # `c` does nothing here
