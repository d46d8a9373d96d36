"""The app's background jobs: an event inserted by another connection (the billing system)
becomes an order that appears in the running app's queue, with a notification; a dead event
is announced; the poller can be left to the headless worker."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from wo_tui.config import load_settings
from wo_tui.core.clock import fixed_clock
from wo_tui.core.context import Context
from wo_tui.core.db import Database, connect
from wo_tui.core.models import events, work_orders
from wo_tui.tui.app import WoTuiApp, make_app
from wo_tui.tui.widgets.queue_table import QueueTable

from conftest import NOW, record_notices, wait_until

SIZE = (120, 30)


def _app(db: Database, *, poll: bool = True) -> WoTuiApp:
    settings = load_settings(
        None,
        environ={},
        overrides={
            "ui": {"refresh_interval_seconds": 600},
            "events": {"poll_interval_seconds": 0.2, "poll_in_app": poll},
            "smtp": {"poll_interval_seconds": 0.2},
        },
    )
    return make_app(settings, Context(db, "dispatcher-a", clock=fixed_clock(NOW)))


def billing_inserts(url: str, ref: str, **values: object) -> None:
    """What the billing system does: a plain INSERT on its own connection."""
    other = connect(url)
    row = {
        "event_type": "move_in",
        "occurred_at": NOW,
        "external_ref": ref,
        "account_number": "A-1",
        "customer_name": "Billing Customer",
        "site_address": "1 Event St, Newtown NSW 2042",
        "meter_number": "M-1",
        **values,
    }
    with other.write() as conn:
        conn.execute(insert(events), row)
    other.dispose()


def screen_text(app: WoTuiApp) -> str:
    widget = app.screen.query_one(QueueTable)
    return "\n".join(widget.render_line(y).text for y in range(widget.size.height))


async def test_an_event_from_billing_appears_in_the_queue_with_a_notice(
    db_url: str, db: Database
) -> None:
    app = _app(db)
    said = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Billing Customer" not in screen_text(app)
        billing_inserts(db_url, "BILL-1")
        await wait_until(pilot, lambda: "Billing Customer" in screen_text(app))
        assert "1 new order from billing events" in said
    with db.read() as conn:
        order = conn.execute(select(work_orders)).mappings().one()
        event = conn.execute(select(events)).mappings().one()
    assert (order["type_code"], order["source"]) == ("RECONNECT", "move_in")
    assert (event["status"], event["work_order_id"]) == ("processed", order["id"])


async def test_a_dead_event_is_announced(db_url: str, db: Database) -> None:
    app = _app(db)
    said = record_notices(app)
    settings_attempts = app.settings.events.max_attempts
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # no rule for this event type: it can never become an order
        billing_inserts(db_url, "BILL-2", event_type="meter_swap", attempts=settings_attempts - 1)
        await wait_until(pilot, lambda: any("parked" in n for n in said))
    with db.read() as conn:
        assert conn.execute(select(events.c.status)).scalar_one() == "dead"


async def test_no_polling_in_the_app_when_the_config_leaves_it_to_the_worker(
    db_url: str, db: Database
) -> None:
    app = _app(db, poll=False)
    async with app.run_test(size=SIZE) as pilot:
        billing_inserts(db_url, "BILL-3")
        assert app.background is not None
        jobs = app.background.supervisor
        assert set(jobs.jobs) == {"email sender"}
        # The sender's first rounds come when a poller's would: by then nothing took the event.
        await wait_until(pilot, lambda: jobs.rounds("email sender") >= 2)
    with db.read() as conn:
        assert conn.execute(select(func.count()).select_from(work_orders)).scalar_one() == 0
        assert conn.execute(select(events.c.status)).scalar_one() == "pending"
