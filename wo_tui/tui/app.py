"""The Textual application: built by `make_app` from settings and a service context."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from wo_tui.config import Settings
from wo_tui.core.context import Context
from wo_tui.core.redact import explain
from wo_tui.keys import APP_BINDINGS
from wo_tui.tui.bindings import bindings_for, styles_dir
from wo_tui.tui.messages import (
    BackgroundFailed,
    EmailsPaused,
    EmailsQueued,
    EmailsSent,
    EventsIngested,
)
from wo_tui.tui.queue_view import Snapshot

if TYPE_CHECKING:
    from wo_tui.tui.background import BackgroundJobs


class WoTuiApp(App[None]):
    """Dispatching work orders from the terminal."""

    TITLE = "wo-tui"
    CSS_PATH: ClassVar = [styles_dir() / "app.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = bindings_for(APP_BINDINGS)

    def __init__(
        self, settings: Settings, ctx: Context, *, first_read: Snapshot | None = None
    ) -> None:
        # NO_COLOR: Textual's own filter draws in greys (still colour codes); with native
        # ANSI colours it uses the filter that writes none, only bold, reverse and so on.
        super().__init__(ansi_color=True if os.environ.get("NO_COLOR") is not None else None)
        self.settings = settings
        self.ctx = ctx
        self.first_read = first_read
        """The queue's first rows, read before the app started (the dashboard shows them in
        its first frame instead of reading them itself)."""
        self.background: BackgroundJobs | None = None
        """The event poller and the email sender, started once the app is mounted."""
        self.set_keymap(dict(settings.ui.keymap))
        # No animations (slow SSH links): scrolling jumps, nothing fades or slides.
        self.animation_level = "none"

    def on_mount(self) -> None:
        from wo_tui.tui.screens.dashboard import DashboardScreen

        wanted = self.settings.ui.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.notify(
                f"Unknown theme {wanted!r} in [ui] theme; using {self.theme}. "
                f"Themes: {', '.join(sorted(self.available_themes))}",
                severity="warning",
                markup=False,
            )
        self.push_screen(DashboardScreen())
        from wo_tui.tui.background import BackgroundJobs

        self.background = BackgroundJobs(self)
        self.background.start()

    async def on_unmount(self) -> None:
        """Stop the background jobs; the sender hands back the emails it has not sent."""
        if self.background is not None:
            await self.background.stop()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """A steady text cursor: a blinking one repaints twice a second over SSH."""
        if hasattr(type(event.widget), "cursor_blink"):  # Input, TextArea (loaded lazily)
            setattr(event.widget, "cursor_blink", False)  # noqa: B010

    def refresh_queue(self) -> None:
        """Read the dashboard's queue again now (it also refreshes itself)."""
        from wo_tui.tui.screens.dashboard import DashboardScreen

        for screen in self.screen_stack:
            if isinstance(screen, DashboardScreen):
                screen.action_refresh()

    def on_events_ingested(self, event: EventsIngested) -> None:
        """New orders from billing events: say so, and show them in the queue now."""
        if event.orders_created:
            plural = "s" if event.orders_created != 1 else ""
            self.notify(f"{event.orders_created} new order{plural} from billing events")
        if event.dead:
            plural = "s" if event.dead != 1 else ""
            self.notify(
                f"{event.dead} billing event{plural} could not become an order and "
                f"{'were' if plural else 'was'} parked; see the Events screen",
                severity="warning",
                timeout=10,
            )
        self.refresh_queue()

    def on_emails_sent(self, event: EmailsSent) -> None:
        """The sender ran: orders it sent are SENT now; failures must not go unnoticed."""
        if event.sent:
            self.notify(f"{event.sent} email{'s' if event.sent != 1 else ''} sent")
        if event.retried:
            plural = "s" if event.retried != 1 else ""
            self.notify(
                f"{event.retried} email{plural} could not be sent yet and will be retried; "
                "see the Outbox (M)",
                severity="warning",
                timeout=8,
            )
        if event.failed:
            plural = "s" if event.failed != 1 else ""
            self.notify(
                f"{event.failed} email{plural} failed; see the Outbox to resend",
                severity="warning",
                timeout=10,
            )
        self.refresh_queue()

    def on_emails_paused(self, event: EmailsPaused) -> None:
        """Sending is paused until someone acts: say so once, with what to fix."""
        self.notify(
            f"Sending emails is paused: {event.reason}",
            severity="error",
            timeout=20,
            markup=False,
        )

    def action_events(self) -> None:
        """Open the billing events that wait or could not become orders."""
        from wo_tui.tui.screens.events import EventsScreen

        self._open(EventsScreen)

    def action_outbox(self) -> None:
        """Open the outbox: every email, its state and the server's reply."""
        from wo_tui.tui.screens.outbox import OutboxScreen

        self._open(OutboxScreen)

    def action_assignees(self) -> None:
        """Open the technicians and partner providers."""
        from wo_tui.tui.screens.assignees import AssigneesScreen

        self._open(AssigneesScreen)

    async def action_quit(self) -> None:
        """Quit (q, Q, ctrl+q, the command palette); asks first when a screen would lose
        something: typed text not saved, marks on the queue."""
        from wo_tui.tui.screens.leaving import quit_or_ask

        quit_or_ask(self)

    def _open(self, kind: type[Screen[None]]) -> None:
        if not isinstance(self.screen, kind):
            self.push_screen(kind())

    def action_send_now(self) -> None:
        """Send the emails that are due now (unless the config leaves it to a worker)."""
        if not self.settings.smtp.send_from_app:
            self.notify("Emails are sent by `wo-tui worker` here ([smtp] send_from_app = false).")
            return
        if self.background is not None:
            self.background.send_now()

    def on_emails_queued(self, event: EmailsQueued) -> None:
        """A screen queued emails: send them now, if this app sends (else a worker does)."""
        if self.settings.smtp.send_from_app and self.background is not None:
            self.background.send_now()

    def on_background_failed(self, event: BackgroundFailed) -> None:
        """A background job failed; it keeps trying, and says so once."""
        self.notify(
            f"The {event.job} failed and will try again: {event.error}",
            severity="error",
            timeout=10,
            markup=False,
        )

    COMMANDS: ClassVar = App.COMMANDS | {lambda: _actions_provider()}

    def action_help(self) -> None:
        """Show the keys of the current screen."""
        from wo_tui.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def _fatal_error(self) -> None:
        """Exit after an unhandled exception with a traceback that shows no local variables:
        Textual's default shows them, and they can hold secrets (docs/guarantees.md)."""
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Any worker that fails becomes a visible error, never a silent one."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                f"{event.worker.name or 'background task'} failed: {explain(error)}",
                severity="error",
                timeout=10,
                markup=False,
            )


def _actions_provider() -> type:
    from wo_tui.tui.commands import ActionsProvider

    return ActionsProvider


def make_app(settings: Settings, ctx: Context, *, first_read: Snapshot | None = None) -> WoTuiApp:
    """The app factory used by the command line and the tests alike."""
    return WoTuiApp(settings, ctx, first_read=first_read)
