"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the mail tests, with small handlers that
behave like troublesome servers: scripted replies, refused recipients, a dropped connection
after storing, a slow drip, a hang after DATA, refused logins; and a hand-written server for
what aiosmtpd will not do (no greeting, 421 at the greeting, 454 to STARTTLS)."""

from __future__ import annotations

import asyncio
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, Session, syntax

from wo_tui.config import SmtpSettings
from wo_tui.core.assignees import add_assignee
from wo_tui.core.context import Context
from wo_tui.core.db import Database
from wo_tui.core.orders import assign, create_order

from conftest import NOW


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Received:
    """One message the server accepted (or stored)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    def parsed(self) -> EmailMessage:
        """The message as a reader's mail program sees it."""
        message = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(message, EmailMessage)
        return message


@dataclass
class Recording:
    """Accepts everything and keeps it. Subclasses change one step."""

    received: list[Received] = field(default_factory=list)
    rcpt_seen: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    """address → reply for RCPT TO (e.g. '450 mailbox busy')."""

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.rcpt_seen.append(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def store(self, envelope: Envelope) -> None:
        content = envelope.original_content or envelope.content
        assert isinstance(content, bytes)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.store(envelope)
        return "250 2.0.0 Ok: queued"


@dataclass
class Scripted(Recording):
    """Answers DATA from a script ('421 ...', '550 ...', then '250 ...' once it runs out);
    stores only what it accepts."""

    replies: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        reply = self.replies.pop(0) if self.replies else "250 2.0.0 Ok: queued"
        if reply.startswith("250"):
            self.store(envelope)
        return reply


@dataclass
class StoreThenDrop(Recording):
    """Stores the first message, then drops the connection before replying to DATA."""

    drops: int = 1

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.store(envelope)
        if self.drops > 0:
            self.drops -= 1
            assert server.transport is not None
            server.transport.close()
            await asyncio.sleep(0.05)
        return "250 2.0.0 Ok: queued"


@dataclass
class Drip(Recording):
    """Answers DATA one continuation line every 0.25 s, for a long time (a stuck server
    whose every read still succeeds, so only an overall deadline ends the wait)."""

    lines: int = 60

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        for _ in range(self.lines):
            transport = server.transport
            if transport is None or transport.is_closing():
                break
            transport.write(b"250-still thinking\r\n")
            await asyncio.sleep(0.25)
        self.store(envelope)
        return "250 2.0.0 Ok: finally"


@dataclass
class HangAfterData(Recording):
    """Takes the message, then never answers DATA (until `release`): a server that stores
    and stalls, so only a timeout or a stop ends the send. `hanging` counts the sends it
    holds."""

    hanging: int = 0
    released: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.hanging += 1
        while not self.released.is_set():
            transport = server.transport
            if transport is None or transport.is_closing():
                break
            await asyncio.sleep(0.05)
        return "250 2.0.0 Ok: too late"

    def release(self) -> None:
        """Let every held send go (so the server can stop)."""
        self.released.set()


@dataclass
class Counts:
    """What a server saw: connections opened and AUTH commands (each one login attempt)."""

    connections: int = 0
    auth: int = 0


class _CountingSMTP(SMTPServer):
    def __init__(self, handler: Any, counts: Counts, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._counts = counts

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._tls_protocol:  # STARTTLS calls this again for the same connection
            self._counts.connections += 1
        super().connection_made(transport)

    @syntax("AUTH <mechanism>")
    async def smtp_AUTH(self, arg: str) -> None:
        self._counts.auth += 1
        await super().smtp_AUTH(arg)


class _CountingController(Controller):
    def __init__(self, handler: Any, counts: Counts, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._counts = counts

    def factory(self) -> SMTPServer:
        return _CountingSMTP(self.handler, self._counts, **self.SMTP_kwargs)


def refuse_login(echo: bool = False) -> Any:
    """An authenticator that refuses every login (echoing the password back if asked, as
    a badly written server might)."""

    def authenticator(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if echo:
            password = getattr(auth_data, "password", b"")
            text = password.decode() if isinstance(password, bytes) else str(password)
            return AuthResult(
                success=False, handled=False, message=f"535 5.7.8 bad password {text}"
            )
        return AuthResult(success=False, handled=False)

    return authenticator


def accept_login(user: str, password: str) -> Any:
    """An authenticator that accepts exactly one user and password."""

    def authenticator(
        server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        given_user = getattr(auth_data, "login", b"")
        given_password = getattr(auth_data, "password", b"")
        ok = given_user == user.encode() and given_password == password.encode()
        return AuthResult(success=ok, handled=False)

    return authenticator


@contextmanager
def smtp_server(
    handler: Recording,
    *,
    starttls: ssl.SSLContext | None = None,
    implicit: ssl.SSLContext | None = None,
    authenticator: Any = None,
    counts: Counts | None = None,
) -> Iterator[int]:
    """Run `handler` on 127.0.0.1 (counting connections and logins into `counts`); yields
    the port."""
    port = free_port()
    kwargs: dict[str, Any] = {}
    if starttls is not None:
        kwargs["tls_context"] = starttls
    if authenticator is not None:
        kwargs.update(authenticator=authenticator, auth_require_tls=False)
    counts = counts or Counts()
    controller = _CountingController(
        handler, counts, hostname="127.0.0.1", port=port, ssl_context=implicit, **kwargs
    )
    controller.start()
    counts.connections = 0  # start() connects once itself, to see that the server is up
    try:
        yield port
    finally:
        if isinstance(handler, HangAfterData):
            handler.release()
        controller.stop()


@dataclass
class RawScript:
    """A hand-written SMTP server, for what aiosmtpd will not do: no greeting at all, 421 at
    the greeting, 454 to STARTTLS. `replies` maps a command (EHLO, STARTTLS, MAIL, RCPT,
    DATA for the end of the message, ...) to its reply; a reply starting with 421 closes the
    connection; None never answers. Counts connections and keeps the commands seen."""

    greeting: str | None = "220 raw.example ESMTP"
    replies: dict[str, str | None] = field(default_factory=dict)
    connections: int = 0
    commands: list[str] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)

    def reply(self, verb: str) -> str | None:
        default = {"EHLO": "250-raw.example\r\n250 STARTTLS", "DATA": "250 2.0.0 Ok: queued"}
        return self.replies.get(verb, default.get(verb, "221 Bye" if verb == "QUIT" else "250 OK"))


class _RawHandler(socketserver.StreamRequestHandler):
    server: _RawServer

    def handle(self) -> None:
        script = self.server.script
        script.connections += 1
        if not self._say(script.greeting):
            return
        while line := self.rfile.readline():
            verb = line.split(b" ")[0].strip().decode("ascii", "replace").upper()
            script.commands.append(verb)
            if verb == "DATA":
                self.wfile.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                while (body := self.rfile.readline()) and body != b".\r\n":
                    pass
            if not self._say(script.reply(verb)) or verb == "QUIT":
                return

    def _say(self, reply: str | None) -> bool:
        """Send a reply; False when the connection ends here (no answer, 421)."""
        if reply is None:
            self.server.script.released.wait(60)
            return False
        self.wfile.write(reply.encode() + b"\r\n")
        return not reply.startswith("421")


class _RawServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, script: RawScript) -> None:
        super().__init__(("127.0.0.1", port), _RawHandler)
        self.script = script


@contextmanager
def raw_smtp_server(script: RawScript) -> Iterator[int]:
    """Run `script` on 127.0.0.1; yields the port."""
    port = free_port()
    server = _RawServer(port, script)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        script.released.set()
        server.shutdown()
        server.server_close()


# --- the work-order side ---------------------------------------------------------------------

FROM = "Dispatch <dispatch@wo.example>"


class Clock:
    """A clock the test moves forward (`advance`)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


def contexts(db: Database, now: datetime) -> tuple[Context, Context, Clock]:
    """A dispatcher's context and the sender's, sharing one movable clock."""
    clock = Clock(now)
    return Context(db, "dispatcher-a", clock=clock), Context(db, "mail-sender", clock=clock), clock


def settings_for(port: int, **changes: Any) -> SmtpSettings:
    """Settings for the local test server: plain SMTP unless told otherwise."""
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "from_address": FROM,
        "timeout_seconds": 5.0,
        "send_deadline_seconds": 10.0,
        "max_attempts": 3,
    }
    values.update(changes)
    return SmtpSettings(**values)


def technician(
    ctx: Context, name: str = "Sam Carter", email: str = "sam@field.example", kind: str = "internal"
) -> str:
    """Add an assignee; returns the name."""
    add_assignee(ctx, name, kind, email)
    return name


def new_order(ctx: Context, **fields: Any) -> int:
    """A reconnection at 12 Smith St, scheduled for tomorrow 08:00-12:00."""
    values: dict[str, Any] = {
        "type_code": "RECONNECT",
        "account_number": "40012345",
        "customer_name": "Jo Smith",
        "site_address": "12 Smith St, Springfield",
        "meter_number": "M1234567",
        "meter_location": "Garage, left wall",
        "scheduled_date": date(2026, 11, 27),
        "window_start": time(8, 0),
        "window_end": time(12, 0),
        "instructions": "Reconnect supply; read the meter.\nCall ahead.",
        "materials": "Seals, tags",
        "access_details": "Gate code 1234",
        "hazards": "Dog in the yard",
    }
    values.update(fields)
    return create_order(ctx, values)


def queue_emails(db: Database, count: int) -> tuple[Context, Clock]:
    """`count` orders assigned to one technician, each with its assignment email queued;
    returns the sender's context and the clock."""
    ctx, sender, clock = contexts(db, NOW)
    name = technician(ctx)
    for _ in range(count):
        assign(ctx, new_order(ctx), name)
    return sender, clock
