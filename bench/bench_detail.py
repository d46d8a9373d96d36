"""Detail and edit screens: how long from Enter on the dashboard to the painted detail of
an order with 1,000 history rows and 200 notes, and how long a form save takes.

    .venv/bin/python bench/bench_detail.py [--reps 7] [--db URL]

Headless app at 160x48 (and 80x24) with the real renderer: each timed step is from posting
the key (as the terminal driver does; not `pilot.press`, which sleeps) or calling the action,
until the first frame on its way to the terminal that shows the result with nothing left to
draw. Prints medians (and min/max) of the repetitions; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update

from wo_tui.config import load_settings
from wo_tui.core import schema
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.detail import load_detail
from wo_tui.core.models import history, notes, work_orders
from wo_tui.core.seed import seed_orders
from wo_tui.tui.app import make_app

NOW = datetime(2026, 11, 26, 9, 30)
HISTORY_ROWS = 1_000
NOTE_ROWS = 200


def build(db: Database) -> tuple[Context, int]:
    """300 orders, the first of the queue given 1,000 trail rows and 200 notes."""
    ctx = Context(db, "bench", clock=fixed_clock(NOW))
    seed_orders(ctx, 300, seed=7, closed_share=0.0)
    target = 1
    with db.write() as conn:
        conn.execute(
            update(work_orders)
            .where(work_orders.c.id == target)
            .values(priority=1, due_date=datetime(2026, 1, 5).date())
        )
        conn.execute(
            insert(history),
            [
                {
                    "work_order_id": target,
                    "at": NOW - timedelta(minutes=HISTORY_ROWS - i),
                    "actor": f"dispatcher-{i % 7}",
                    "field": ("customer_name", "instructions", "priority", "status")[i % 4],
                    "old_value": f"value {i} before the change, with some words",
                    "new_value": f"value {i} after the change, with some more words",
                    "reason": "customer called" if i % 3 == 0 else None,
                }
                for i in range(HISTORY_ROWS)
            ],
        )
        conn.execute(
            insert(notes),
            [
                {
                    "work_order_id": target,
                    "at": NOW - timedelta(minutes=NOTE_ROWS - i),
                    "author": f"dispatcher-{i % 5}",
                    "body": f"Note {i}: rang the customer, left a message.\nWill try again.",
                }
                for i in range(NOTE_ROWS)
            ],
        )
    return ctx, target


def settled(screen: Any) -> bool:
    """Nothing left to lay out or repaint on the screen's visible widgets."""
    visible = screen._compositor.visible_widgets
    if screen._repaint_required or screen._repaint_regions:
        return False
    return all(
        not (w._repaint_required or w._repaint_regions or w._layout_required)
        for w in screen.walk_children()
        if w in visible
    )


class Probe:
    """Resolves a future at the first frame sent to the (headless) terminal for which a
    condition on the screen holds; the frame is encoded as the real driver would."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.waiters: list[tuple[Callable[[Any], bool], asyncio.Future[float]]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
            now = time.perf_counter()
            for waiter in list(self.waiters):
                done, future = waiter
                if not future.done() and done(screen):
                    future.set_result(now)
                    self.waiters.remove(waiter)

        app._display = display

    async def time_two(
        self, start: Callable[[], None], first: Callable[[Any], bool], then: Callable[[Any], bool]
    ) -> tuple[float, float]:
        """Seconds from `start()` to the first frame where `first`, and to the first where
        `then` (the same frame when both hold at once)."""
        loop = asyncio.get_running_loop()
        a: asyncio.Future[float] = loop.create_future()
        b: asyncio.Future[float] = loop.create_future()
        self.waiters += [(first, a), (then, b)]
        t0 = time.perf_counter()
        start()
        return await asyncio.wait_for(a, 30) - t0, await asyncio.wait_for(b, 30) - t0

    async def time(self, start: Callable[[], None], done: Callable[[Any], bool]) -> float:
        """Seconds from `start()` until the first frame where `done(screen)`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiters.append((done, future))
        t0 = time.perf_counter()
        start()
        return await asyncio.wait_for(future, 30) - t0

    def post_key(self, key: str) -> None:
        """A key as the terminal driver sends it."""
        from textual import events

        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(self.app)
        self.app._driver.send_message(event)


async def run_screen(ctx: Context, target: int, size: tuple[int, int], reps: int) -> dict[str, Any]:
    """Open and close the detail `reps` times; then save an edit `reps` times."""
    from wo_tui.tui.screens.dashboard import DashboardScreen
    from wo_tui.tui.screens.detail import DetailScreen
    from wo_tui.tui.screens.order_form import OrderFormScreen

    settings = load_settings(None, environ={}, overrides={"ui": {"refresh_interval_seconds": 600}})
    app = make_app(settings, ctx)
    opened: dict[bool, list[float]] = {False: [], True: []}
    whole: dict[bool, list[float]] = {False: [], True: []}
    plain = 2
    saves: list[float] = []
    save_to_painted: list[float] = []
    async with app.run_test(size=size) as pilot:
        probe = Probe(app)
        for _ in range(4):
            await pilot.pause()
            await app.workers.wait_for_complete()
        dash = app.screen
        assert isinstance(dash, DashboardScreen) and dash.view.current_id == target
        for order_id in (plain, target):
            dash.view.jump_to(order_id)
            for _ in range(reps):
                top, full = await probe.time_two(
                    lambda: probe.post_key("enter"),
                    lambda s: isinstance(s, DetailScreen) and s.detail is not None and settled(s),
                    lambda s: (
                        isinstance(s, DetailScreen)
                        and s.detail is not None
                        and s.detail.trail_loaded
                        and settled(s)
                    ),
                )
                opened[order_id == target].append(top)
                whole[order_id == target].append(full)
                await pilot.pause()
                await pilot.press("escape")  # back (not timed)
                for _ in range(3):
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                assert isinstance(app.screen, DashboardScreen)
        dash.view.jump_to(target)
        await pilot.press("enter")
        for i in range(reps):
            await pilot.press("e")
            form = app.screen
            assert isinstance(form, OrderFormScreen)
            form.query_one("#field-customer_name").value = f"Customer renamed {i}"  # type: ignore[attr-defined]
            await pilot.pause()
            # The save itself ends where the form dismisses itself with the saved order.
            stamps: list[float] = []
            dismiss = form.dismiss

            def timed_dismiss(
                result: Any = None, *, _d: Any = dismiss, _stamps: list[float] = stamps
            ) -> Any:
                _stamps.append(time.perf_counter())
                return _d(result)

            form.dismiss = timed_dismiss  # type: ignore[method-assign]
            t0 = time.perf_counter()
            seconds = await probe.time(
                form.action_save,
                lambda s: isinstance(s, DetailScreen) and settled(s),
            )
            save_to_painted.append(seconds)
            saves.append(stamps[0] - t0)
            await pilot.pause()
    return {
        "plain_open": opened[False],
        "open": opened[True],
        "whole": whole[True],
        "save": saves,
        "save_painted": save_to_painted,
    }


def median_ms(samples: list[float]) -> str:
    ms = [s * 1000 for s in samples]
    return f"{statistics.median(ms):6.1f} ms (min {min(ms):.1f}, max {max(ms):.1f}, n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or str(Path(tmp) / "bench.db")
        db = connect(url)
        schema.upgrade(db)
        ctx, target = build(db)
        reads = []
        for _ in range(args.reps):
            t0 = time.perf_counter()
            with db.read() as conn:
                detail = load_detail(conn, target)
            reads.append(time.perf_counter() - t0)
        print(f"database: {db.engine.dialect.name}; order with {len(detail.history)} history rows")
        print(f"and {len(detail.notes)} notes")
        print(f"load_detail (SQL only)            {median_ms(reads)}")
        for size in ((160, 48), (80, 24)):
            found = asyncio.run(run_screen(ctx, target, size, args.reps))
            label = f"{size[0]}x{size[1]}"
            print(f"{label} plain order: Enter → painted  {median_ms(found['plain_open'])}")
            print(f"{label} big order: Enter → painted    {median_ms(found['open'])}")
            print(f"{label} big order: → trail painted too {median_ms(found['whole'])}")
            print(f"{label} form save (validate+write)  {median_ms(found['save'])}")
            print(f"{label} ctrl+s → painted detail     {median_ms(found['save_painted'])}")
        db.dispose()


if __name__ == "__main__":
    main()
