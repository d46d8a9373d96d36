"""The queue table's cell fitting: every cell is exactly its column's width, cleaned of
control characters, and the quick path for plain ASCII agrees with the general one."""

from __future__ import annotations

import pytest
from rich.cells import cell_len, set_cell_size

from wo_tui.core.sanitize import clean_text
from wo_tui.tui.widgets.queue_table import fit


def general_fit(text: str, width: int) -> str:
    """The general way (what `fit` does for any text that is not plain ASCII)."""
    text = clean_text(text)
    if cell_len(text) > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else set_cell_size(text, width)
    return set_cell_size(text, width)


TEXTS = [
    "",
    "Smith",
    "exactly ten",
    "A much longer customer name than the column",
    "[link=http://x]Bob",
    "Smith [/bold] Jr",
    "Eve\x1b[31mRED\x1b[0m",
    "tab\there",
    "line\nbreak",
    "Zoë Ångström",
    "山田太郎 株式会社",
    "🙂 emoji name",
    "bell\x07 and del\x7f",
]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("width", [1, 2, 5, 10, 11, 18])
def test_fit_is_exactly_the_width_and_agrees_with_the_general_way(text: str, width: int) -> None:
    fitted = fit(text, width)
    assert cell_len(fitted) == width
    assert not any(ord(c) < 32 or ord(c) == 127 for c in fitted)
    assert fitted == general_fit(text, width)
