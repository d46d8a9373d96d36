"""The per-order result of a bulk action, one line per order, drawn only for the lines on
screen: a batch of 10,000 orders is 10,000 lines, and a `Static` holding them all laid out
and measured every one of them before the first frame."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from wo_tui.core.outcomes import OrderOutcome, Result
from wo_tui.core.sanitize import clean_text

RESULT_STYLE = {
    Result.DONE: Style(),
    Result.SKIPPED: Style(bold=True),
    Result.CONFLICT: Style(bold=True, reverse=True),
}
"""The word DONE / SKIPPED / CONFLICT says it; the style only helps the eye (NO_COLOR)."""


class OutcomeList(ScrollView, can_focus=True):
    """Scrollable with the usual keys; the orders that were not done come first."""

    DEFAULT_CSS = """
    OutcomeList {
        height: auto;
        max-height: 14;
    }
    """

    def __init__(self, outcomes: Sequence[OrderOutcome], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.outcomes = sorted(outcomes, key=lambda o: o.result is Result.DONE)
        # As wide as the widest of the first lines (the details come first): measuring all
        # 10,000 would cost what this widget exists to avoid.
        widest = max((cell_len(self.line(i)) for i in range(min(len(outcomes), 200))), default=0)
        self.virtual_size = Size(widest, len(self.outcomes))

    def line(self, index: int) -> str:
        """The text of one line: `WO-000123  SKIPPED  why`."""
        return "  ".join(_parts(self.outcomes[index]))

    def render_line(self, y: int) -> Strip:
        index = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self.outcomes):
            return Strip.blank(width, base)
        outcome = self.outcomes[index]
        number, word, *detail = _parts(outcome)
        strip = Strip(
            [
                Segment(number, base + Style(bold=True)),
                Segment("  ", base),
                Segment(word, base + RESULT_STYLE[outcome.result]),
                *(Segment(f"  {text}", base) for text in detail),
            ]
        )
        return strip.crop(self.scroll_offset.x, self.scroll_offset.x + width).adjust_cell_length(
            width, base
        )


@lru_cache(maxsize=4096)
def _parts(outcome: OrderOutcome) -> tuple[str, ...]:
    """Number, result word and (when there is one) the detail, cleaned for the screen."""
    word = outcome.result.value.upper()
    if not outcome.detail:
        return outcome.number, word
    return outcome.number, word, clean_text(outcome.detail)
