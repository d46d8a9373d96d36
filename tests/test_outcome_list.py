"""The result list of a bulk action: every order of the batch, the ones not done first,
drawn only where it is on screen, scrolled with the keys."""

from __future__ import annotations

from textual.app import App, ComposeResult

from wo_tui.core.outcomes import OrderOutcome, Result
from wo_tui.tui.widgets.outcome_list import OutcomeList


def _batch(n: int) -> list[OrderOutcome]:
    outcomes = [OrderOutcome(i, Result.DONE) for i in range(1, n + 1)]
    outcomes[500] = OrderOutcome(501, Result.SKIPPED, "is CANCELLED; cannot go to COMPLETED")
    outcomes[-1] = OrderOutcome(n, Result.CONFLICT, "changed by [b]eve\x1b[31m at 09:31:00")
    return outcomes


class _ListApp(App[None]):
    def __init__(self, outcomes: list[OrderOutcome]) -> None:
        super().__init__()
        self.outcomes = outcomes

    def compose(self) -> ComposeResult:
        yield OutcomeList(self.outcomes, id="list")


def _screen_text(app: App[None]) -> list[str]:
    return ["".join(s.text for s in strip) for strip in app.screen._compositor.render_strips()]


async def test_every_order_is_listed_the_ones_not_done_first() -> None:
    app = _ListApp(_batch(10_000))
    async with app.run_test(size=(80, 20)) as pilot:
        listed = app.query_one(OutcomeList)
        assert len(listed.outcomes) == 10_000
        shown = _screen_text(app)
        assert shown[0].startswith("WO-000501  SKIPPED  is CANCELLED; cannot go to COMPLETED")
        # The detail is shown literally, its escape sequence removed.
        assert shown[1].startswith("WO-010000  CONFLICT  changed by [b]eve[31m at 09:31:00")
        assert shown[2].startswith("WO-000001  DONE")
        assert shown[13].startswith("WO-") and not shown[14].strip()  # max-height 14
        await pilot.press("end")
        assert _screen_text(app)[13].startswith("WO-009999  DONE")
        await pilot.press("home", "pagedown")
        assert listed.scroll_offset.y > 0


async def test_an_empty_batch_draws_nothing() -> None:
    app = _ListApp([])
    async with app.run_test(size=(80, 20)):
        assert app.query_one(OutcomeList).outcomes == []
