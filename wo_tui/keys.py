"""The key bindings of the app, by stable id, in one place.

Plain data (no Textual import) so the config loader can check a user's keymap against the
known ids, and the screens can build their bindings from the same table.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyBinding:
    """One remappable action: its stable id, default keys, action name and help text."""

    id: str
    keys: str
    action: str
    description: str
    show: bool = True
    priority: bool = False
    """Run in the app's own turn, before the keys that follow are handed to a widget: for
    the keys that open a prompt line (the keys typed right after belong to the line)."""


APP_BINDINGS: tuple[KeyBinding, ...] = (
    # Priority: quitting works in the dialogs too (it asks first when typing would be lost).
    KeyBinding("app.quit", "Q,ctrl+q", "quit", "Quit", show=False, priority=True),
    KeyBinding("app.help", "question_mark", "help", "Help"),
    KeyBinding("app.events", "B", "events", "Billing events", show=False),
    KeyBinding("app.outbox", "M", "outbox", "Outbox", show=False),
    KeyBinding("app.assignees", "T", "assignees", "Technicians", show=False),
    KeyBinding("app.send_now", "s", "send_now", "Send now", show=False),
)

BUCKET_NAMES = ("all open", "needs attention", "set up", "sent", "on hold", "overdue", "due today")
"""The buckets of keys 1-7, in the order of `wo_tui.core.queue.BUCKETS`."""

DASHBOARD_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("queue.down", "j,down", "cursor_down", "Down", show=False),
    KeyBinding("queue.up", "k,up", "cursor_up", "Up", show=False),
    KeyBinding("queue.page_down", "pagedown,ctrl+f", "page_down", "Page down", show=False),
    KeyBinding("queue.page_up", "pageup,ctrl+b", "page_up", "Page up", show=False),
    KeyBinding("queue.first", "g,home", "first", "First row", show=False),
    KeyBinding("queue.last", "G,end", "last", "Last row", show=False),
    KeyBinding("queue.column_left", "h,left", "column(-1)", "Column left", show=False),
    KeyBinding("queue.column_right", "l,right", "column(1)", "Column right", show=False),
    KeyBinding("queue.mark", "space", "toggle_mark", "Mark"),
    KeyBinding("queue.range", "V", "range_mode", "Range mark", show=False),
    KeyBinding("queue.mark_down", "shift+down", "mark_move(1)", "Mark down", show=False),
    KeyBinding("queue.mark_up", "shift+up", "mark_move(-1)", "Mark up", show=False),
    KeyBinding("queue.mark_all", "ctrl+a", "mark_all", "Mark all", show=False),
    KeyBinding("queue.invert", "asterisk", "invert_marks", "Invert marks", show=False),
    KeyBinding("queue.clear", "escape", "clear", "Clear marks", show=False),
    KeyBinding("queue.complete", "c", "complete", "Complete"),
    KeyBinding("queue.cancel", "x", "cancel", "Cancel"),
    KeyBinding("queue.undo", "u", "undo", "Undo"),
    KeyBinding("queue.filter", "slash", "filter", "Filter", priority=True),
    KeyBinding("queue.sort", "o", "sort(False)", "Sort", show=False),
    KeyBinding("queue.sort_reverse", "O", "sort(True)", "Sort reverse", show=False),
    KeyBinding("queue.command", "colon", "command", "Command", show=False, priority=True),
    KeyBinding("queue.closed", "t", "toggle_closed", "Closed too"),
    KeyBinding("queue.refresh", "r", "refresh", "Refresh", show=False),
    KeyBinding("queue.close", "q", "app.quit", "Quit"),
    KeyBinding("queue.open", "enter", "open_detail", "Open", show=False),
    KeyBinding("queue.new", "n", "new_order", "New"),
    KeyBinding("queue.assign", "a", "assign", "Assign"),
    KeyBinding("queue.edit", "e", "edit_order", "Edit", show=False),
    KeyBinding("queue.all_orders", "f", "all_orders", "All orders"),
    KeyBinding("queue.export", "E", "export", "Export", show=False),
    *(
        KeyBinding(f"queue.bucket_{n}", str(n), f"bucket({n - 1})", f"Bucket: {name}", show=False)
        for n, name in enumerate(BUCKET_NAMES, start=1)
    ),
)

DETAIL_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("detail.back", "escape,q", "back", "Back"),
    KeyBinding("detail.edit", "e", "edit", "Edit"),
    KeyBinding("detail.assign", "a", "assign", "Assign"),
    KeyBinding("detail.complete", "c", "complete", "Complete"),
    KeyBinding("detail.cancel", "x", "cancel_order", "Cancel"),
    KeyBinding("detail.hold", "h", "hold", "Hold"),
    KeyBinding("detail.reopen", "r,X", "reopen", "Reopen"),
    KeyBinding("detail.note", "m", "note", "Note"),
    KeyBinding("detail.new", "n", "new_order", "New", show=False),
    KeyBinding("detail.next", "right_square_bracket", "step(1)", "Next order"),
    KeyBinding("detail.previous", "left_square_bracket", "step(-1)", "Previous order"),
    KeyBinding("detail.down", "j,down", "scroll(1)", "Scroll down", show=False),
    KeyBinding("detail.up", "k,up", "scroll(-1)", "Scroll up", show=False),
    KeyBinding("detail.page_down", "pagedown,space", "scroll_page(1)", "Page down", show=False),
    KeyBinding("detail.page_up", "pageup", "scroll_page(-1)", "Page up", show=False),
    KeyBinding("detail.top", "g,home", "scroll_to_end(False)", "Top", show=False),
    KeyBinding("detail.bottom", "G,end", "scroll_to_end(True)", "Bottom", show=False),
)

FORM_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("form.save", "ctrl+s", "save", "Save"),
    KeyBinding("form.back", "escape", "back", "Back"),
)

ALL_ORDERS_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("all.down", "j,down", "cursor_down", "Down", show=False),
    KeyBinding("all.up", "k,up", "cursor_up", "Up", show=False),
    KeyBinding("all.page_down", "pagedown,ctrl+f", "page_down", "Page down", show=False),
    KeyBinding("all.page_up", "pageup,ctrl+b", "page_up", "Page up", show=False),
    KeyBinding("all.first", "g,home", "first", "First row", show=False),
    KeyBinding("all.last", "G,end", "last", "Last row", show=False),
    KeyBinding("all.open", "enter", "open_detail", "Open"),
    KeyBinding("all.filter", "slash", "filter", "Search", priority=True),
    KeyBinding("all.export", "E", "export", "Export"),
    KeyBinding("all.reopen", "X", "reopen", "Reopen"),
    KeyBinding("all.back", "escape,q", "back", "Back"),
)

# The lists of records (billing events, outbox, technicians) and their forms.
RECORDS_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("records.close", "escape,q", "close", "Back"),
    KeyBinding("records.refresh", "r", "reload", "Refresh"),
)

EVENTS_BINDINGS: tuple[KeyBinding, ...] = (
    *RECORDS_BINDINGS,
    KeyBinding("events.retry", "R", "retry", "Retry dead"),
    KeyBinding("events.discard", "d", "discard", "Discard dead"),
    KeyBinding("events.all", "a", "toggle_all", "All events"),
)

OUTBOX_BINDINGS: tuple[KeyBinding, ...] = (
    *RECORDS_BINDINGS,
    KeyBinding("outbox.preview", "p", "preview", "Preview"),
    KeyBinding("outbox.resend", "R", "resend", "Resend"),
    KeyBinding("outbox.failed", "f", "toggle_failed", "Failed only"),
)

PREVIEW_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("preview.close", "escape,q", "dismiss", "Back"),
)

ASSIGNEES_BINDINGS: tuple[KeyBinding, ...] = (
    *RECORDS_BINDINGS,
    KeyBinding("assignees.add", "n", "add", "Add"),
    KeyBinding("assignees.edit", "e", "edit", "Edit"),
    KeyBinding("assignees.active", "D", "toggle_active", "(De)activate"),
)

ASSIGNEE_FORM_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("assignee_form.back", "escape", "dismiss_none", "Back"),
    KeyBinding("assignee_form.save", "ctrl+s", "save", "Save"),
)

# Dialogs.
CONFIRM_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("confirm.yes", "y", "answer(True)", "Yes"),
    KeyBinding("confirm.no", "n,escape", "answer(False)", "No"),
)

OUTCOME_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("outcome.close", "escape,enter,q", "dismiss", "Close"),
)

CANCEL_REASON_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("cancel_reason.back", "escape", "dismiss_none", "Back"),
)

PROMPT_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("prompt.back", "escape", "dismiss_none", "Back"),
)

DIALOG_BINDINGS: tuple[KeyBinding, ...] = (KeyBinding("dialog.back", "escape", "back", "Back"),)

EXPORT_BINDINGS: tuple[KeyBinding, ...] = (KeyBinding("export.back", "escape", "back", "Back"),)

CONFLICT_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("conflict.reload", "l", "answer('reload')", "Reload theirs"),
    KeyBinding("conflict.reapply", "a", "answer('reapply')", "Re-apply mine"),
    KeyBinding("conflict.back", "escape", "answer(None)", "Back to the form"),
)

HELP_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding("help.close", "escape,q,question_mark", "dismiss", "Close"),
)


@dataclass(frozen=True, slots=True)
class KeyScreen:
    """A screen (or dialog) of the app and the bindings in force on it."""

    name: str
    bindings: tuple[KeyBinding, ...]
    modal: bool
    """A dialog: the app's own keys (`APP_BINDINGS`) do not reach it. On a full screen they
    do, unless the screen binds the same key (Textual tries the screen's bindings first)."""


SCREENS: tuple[KeyScreen, ...] = (
    KeyScreen("queue", DASHBOARD_BINDINGS, modal=False),
    KeyScreen("order detail", DETAIL_BINDINGS, modal=False),
    KeyScreen("order form", FORM_BINDINGS, modal=False),
    KeyScreen("all orders", ALL_ORDERS_BINDINGS, modal=False),
    KeyScreen("billing events", EVENTS_BINDINGS, modal=False),
    KeyScreen("outbox", OUTBOX_BINDINGS, modal=False),
    KeyScreen("email preview", PREVIEW_BINDINGS, modal=True),
    KeyScreen("technicians", ASSIGNEES_BINDINGS, modal=False),
    KeyScreen("technician form", ASSIGNEE_FORM_BINDINGS, modal=True),
    KeyScreen("confirm", CONFIRM_BINDINGS, modal=True),
    KeyScreen("outcome", OUTCOME_BINDINGS, modal=True),
    KeyScreen("cancel reason", CANCEL_REASON_BINDINGS, modal=True),
    KeyScreen("prompt", PROMPT_BINDINGS, modal=True),
    KeyScreen("dialog", DIALOG_BINDINGS, modal=True),
    KeyScreen("export", EXPORT_BINDINGS, modal=True),
    KeyScreen("conflict", CONFLICT_BINDINGS, modal=True),
    KeyScreen("help", HELP_BINDINGS, modal=True),
)

SCREEN_BINDINGS: tuple[tuple[KeyBinding, ...], ...] = (
    APP_BINDINGS,
    *(screen.bindings for screen in SCREENS),
)

# Every binding once (the record lists share theirs).
ALL_BINDINGS: tuple[KeyBinding, ...] = tuple(
    {b.id: b for table in SCREEN_BINDINGS for b in table}.values()
)

BINDING_IDS: frozenset[str] = frozenset(b.id for b in ALL_BINDINGS)

# Textual's names of the characters it does not call by their Unicode name.
_KEY_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}


def key_name(key: str) -> str:
    """A key as Textual names it: `?` is `question_mark`, `/` is `slash`."""
    key = key.strip()
    if len(key) != 1 or key.isalnum():
        return key
    try:
        name = unicodedata.name(key).lower().replace("-", "_").replace(" ", "_")
    except ValueError:  # a control character: no name
        return key
    return _KEY_NAME_REPLACEMENTS.get(name, name)


@dataclass(frozen=True, slots=True)
class KeyClash:
    """A key that the keymap gives to `binding_id` on a screen where it already runs
    `other_id`: one of the two actions could never be reached with it."""

    binding_id: str
    key: str
    other_id: str
    screen: str


def keymap_clashes(keymap: Mapping[str, str]) -> list[KeyClash]:
    """Every key that the keymap (binding id -> comma-separated keys) binds to a second
    action of one screen, once per binding the keymap moved."""
    clashes: dict[tuple[str, str], KeyClash] = {}
    for screen in SCREENS:
        in_force = screen.bindings if screen.modal else (*screen.bindings, *APP_BINDINGS)
        owners: dict[str, list[str]] = {}
        for binding in {b.id: b for b in in_force}.values():
            for key in filter(None, map(key_name, keymap.get(binding.id, binding.keys).split(","))):
                owners.setdefault(key, []).append(binding.id)
        for key, ids in owners.items():
            for moved in (i for i in ids if i in keymap):
                other = next((i for i in ids if i != moved), None)
                if other is not None and (moved, key) not in clashes:
                    clashes[moved, key] = KeyClash(moved, key, other, screen.name)
    return list(clashes.values())
