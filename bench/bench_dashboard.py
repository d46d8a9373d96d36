"""Benchmark of the dashboard: first paint, keystroke latency, bulk complete and memory, each
beside a baseline of a plain Textual app with the built-in DataTable holding every open row.

Run from the repository root:

    .venv/bin/python bench/bench_dashboard.py [--orders 100000] [--runs 5] [--db PATH]

Figures go to stdout as one table of medians (progress to stderr). What it does:

0. The package (`wo_tui/`, `styles/`) is copied to the temporary directory at the start and
   every process of the run imports that copy (PYTHONPATH), so all runs measure the same code
   even while the working tree is being edited; its fingerprint is printed.
1. Set-up, once: an SQLite file in a temporary directory, migrated and seeded with
   `seed_orders` so that about --orders orders are OPEN (seed_orders closes ~20%, so
   --orders / 0.8 are seeded). Runs that change data (bulk complete) get a fresh copy.
2. First paint: the real `wo-tui --config EMPTY --db FILE` is spawned in a pseudo-terminal
   (pexpect, 160x50, TERM=xterm-256color) and timed from just before the spawn until the
   first order number (`WO-\\d{6}`) arrives on the terminal. The same for two baselines, each a
   small script written to the temporary directory and run the same way: a Textual app whose
   only widget is the built-in `DataTable` (or textual-fastdatatable's, when installed) loaded
   with every open row, read with one SQL query through the sqlite3 module, the same 11
   columns. A baseline still not painted after 60 s is stopped and shown as "> 60 s". After the
   first paint each process pages down 10 times, jumps to the end and back (keys sent to the
   terminal, output drained) and its peak RSS (VmHWM from /proc) is read.
3. Keystrokes, headless (`app.run_test(size=(160, 50))`), in a child process per run (so one
   app's garbage never slows the other's figures). A key is the real key event a terminal
   driver would post (`events.Key`, sent through the driver like `Pilot.press` does, but
   without the sleeps `Pilot.press` adds). The latency of a key is from posting it until the
   first frame in which its effect has been rendered: `App._display` is wrapped so that every
   frame the compositor produces is also encoded to the ANSI text a terminal would receive
   (`render_segments`, the work the real driver does and the headless one skips), and a frame
   counts only when the key's effect is in the app state (cursor moved, snapshot applied, ...)
   AND the widgets showing it have no repaint or layout pending (their dirty regions were taken
   by the compositor for this frame). So the figure includes the action, the message passing,
   any worker-thread query, Textual's frame scheduling, the compositor and the encoding; it
   excludes only the terminal's own drawing. Between repetitions the app is left to settle
   (no frame for 40 ms, no worker running, nothing left to draw), untimed; the time from the
   key to the last frame before it settled is kept too (the "until its last frame" rows: for
   the keys whose rows and counts are read separately). Operations: cursor down (split into
   moves inside the screen and moves that scroll it), page down, G (end), g (start), space
   (mark and move down), one character typed in the filter box (the word "kelly", character
   by character: the filter query runs in the app's worker thread), sort (o / O on the
   Customer column, alternately) and r (refresh, what the 5 s timer does) while sorted by
   customer and in the default order. The auto-refresh interval is set to an hour so that it
   never fires during a measurement. The DataTable baseline does the same where it has an
   equivalent: down, pagedown, ctrl+end, ctrl+home, `update_cell_at` of the mark column plus
   cursor down, and `sort` by the customer column.
4. Bulk complete, headless, on a fresh copy per run: the filter box is given a filter that
   matches about --bulk open orders (chosen among `type:T status:...` filters; the count is
   printed), then, timed as one: ctrl+a (mark all matching), c (preview; the confirmation
   screen painted), y (bulk_complete, reload, the outcome screen over the repainted queue).
   Each key is posted as soon as the previous step's frame is out, so no human delay is in it.
   A run still going after --bulk-limit seconds is stopped and shown as "> N s".
5. Memory: the peak RSS (VmHWM) of the headless child after all of section 3 (paging around,
   end, filter, sort), for wo-tui and for the DataTable baseline; and the pty figures of
   section 2. (Not ru_maxrss: on Linux a child's ru_maxrss starts at its parent's peak.)
6. Targets: first paint < 1 s, each keystroke < 30 ms (median), bulk complete of 10,000 < 1.5 s,
   memory < 250 MB. The ratio columns are wo-tui / baseline (below 1: wo-tui is faster).

Each figure is the median over --runs runs; a keystroke run's figure is itself the median of
its repetitions (--reps, fewer when one key's repetitions pass --budget seconds). The "cpu"
column is the CPU time of wo-tui's process over the same interval (all threads; for the first
paint from /proc); wall well above cpu means it waited for a core on a busy machine.
textual-fastdatatable is not a project dependency: install it into the venv by hand to get
its column.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import hashlib
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from machine import describe, gauge
from sqlite_copies import copy_database, remove_database

ROOT = Path(__file__).resolve().parent.parent
SIZE = (160, 50)
FIRST_ROW = re.compile(rb"WO-\d{6}")
PAINT_TIMEOUT_S = 60.0
STEP_TIMEOUT_S = float(os.environ.get("BENCH_STEP_TIMEOUT", 120))
SETTLE_S = 0.04
CLOSED_SHARE = 0.2
"""seed_orders' default share of closed orders."""
FILTER_WORD = "kelly"
SORT_COLUMN = "customer"

TARGET_PAINT_S = 1.0
TARGET_KEY_MS = 30.0
TARGET_BULK_S = 1.5
TARGET_MEM_MB = 250.0


def log(message: str) -> None:
    """Progress goes to stderr; stdout carries only the results."""
    print(message, file=sys.stderr, flush=True)


# =========================================================================== the baselines

BASELINE_SCRIPT = r'''"""Baseline for bench_dashboard.py: one table widget holding every open order.

    python baseline_table.py builtin|fast DB_PATH LIMIT
"""

import sqlite3
import sys
from datetime import date

QUERY = """
SELECT w.id, w.status, w.priority, w.due_date, w.type_code, w.customer_name, w.life_support,
       w.site_address, w.site_id, w.meter_number, w.scheduled_date, a.name
FROM work_orders AS w LEFT OUTER JOIN assignees AS a ON a.id = w.assignee_id
WHERE w.status IN ('NEW', 'SETUP', 'SENT', 'ON_HOLD')
ORDER BY w.priority, w.due_date, w.id
LIMIT ?
"""
COLUMNS = [
    ("mark", " "), ("number", "Number"), ("status", "Status"), ("priority", "Pri"),
    ("due", "Due"), ("type", "Type"), ("customer", "Customer"), ("address", "Site address"),
    ("site", "Site / meter"), ("scheduled", "Scheduled"), ("assignee", "Assignee"),
]
STATUS = {"NEW": "NEW", "SETUP": "SET UP", "SENT": "SENT", "ON_HOLD": "HOLD"}
PRIORITY = {1: "High", 2: "Medi", 3: "Low"}
MONTHS = " Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ")


def load_rows(path, limit):
    """Every open order (up to limit), as the 11 display strings, with one query."""
    today = date.today().isoformat()
    conn = sqlite3.connect(path)
    rows = []
    for (order_id, status, pri, due, type_code, customer, life_support, address, site, meter,
         scheduled, assignee) in conn.execute(QUERY, (limit,)):
        shown = "today" if due == today else f"{due[8:10]} {MONTHS[int(due[5:7])]}"
        rows.append((
            " ", f"WO-{order_id:06d}", STATUS.get(status, status), PRIORITY[pri],
            f"{shown} LATE" if due < today else shown, type_code,
            f"LS {customer or ''}" if life_support else customer or "", address or "",
            site or meter or "", scheduled or "", assignee or "",
        ))
    conn.close()
    return rows


def make_app(rows, kind):
    """A Textual app whose only widget is the table, focused, with a row cursor."""
    from textual.app import App

    if kind == "fast":
        from textual_fastdatatable import DataTable
    else:
        from textual.widgets import DataTable

    class BaselineApp(App):
        def compose(self):
            if kind == "fast":
                yield DataTable(
                    data=rows, column_labels=[title for _key, title in COLUMNS],
                    cursor_type="row", render_markup=False,
                )
                rows.clear()  # the table has its own (Arrow) copy
            else:
                yield DataTable(cursor_type="row")

        def on_mount(self):
            table = self.query_one(DataTable)
            if kind != "fast":
                for key, title in COLUMNS:
                    table.add_column(title, key=key)
                table.add_rows(rows)
                rows.clear()  # the table holds the cells
            table.focus()

    return BaselineApp()


if __name__ == "__main__":
    make_app(load_rows(sys.argv[2], int(sys.argv[3])), sys.argv[1]).run()
'''


def write_baseline(workdir: Path) -> Path:
    path = workdir / "baseline_table.py"
    path.write_text(BASELINE_SCRIPT)
    return path


def load_baseline(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("baseline_table", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def have_fastdatatable() -> bool:
    return importlib.util.find_spec("textual_fastdatatable") is not None


# =========================================================================== set-up


def set_up(args: argparse.Namespace, workdir: Path) -> tuple[Path, dict[str, Any]]:
    """The seeded database (closed, WAL checkpointed) and facts about it."""
    from sqlalchemy import func, select

    from wo_tui.core import queue, schema
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.core.models import work_orders
    from wo_tui.core.seed import seed_orders

    path = Path(args.db).expanduser().resolve() if args.db else workdir / "seeded.db"
    ctx = Context(connect(str(path)), "bench")
    schema.upgrade(ctx.db)
    facts: dict[str, Any] = {"path": path, "seed_s": None}
    with ctx.db.read() as conn:
        existing = int(conn.execute(select(func.count()).select_from(work_orders)).scalar_one())
    if existing:
        log(f"reusing {path}: {existing:,} orders already there, seeding skipped")
    else:
        count = round(args.orders / (1 - CLOSED_SHARE))
        log(f"seeding {count:,} orders into {path} (about {args.orders:,} open) ...")
        t0 = time.perf_counter()
        seed_orders(ctx, count, closed_share=CLOSED_SHARE)
        facts["seed_s"] = time.perf_counter() - t0
    with ctx.db.read() as conn:
        facts["orders"] = int(
            conn.execute(select(func.count()).select_from(work_orders)).scalar_one()
        )
        facts["buckets"] = queue.count_buckets(conn, ctx.today())
    facts["open"] = facts["buckets"].all
    ctx.db.dispose()  # the last connection closes: SQLite checkpoints the WAL into the file
    facts["size_mb"] = path.stat().st_size / 1e6
    return path, facts


def choose_bulk_filter(path: Path, target: int) -> tuple[str, int]:
    """The `type:T status:...` filter whose open count is nearest `target` (no DISCONNECT:
    its life-support orders would be skipped)."""
    from itertools import combinations

    from wo_tui.core import queue
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.core.orders import order_types

    ctx = Context(connect(str(path)), "bench")
    statuses = ["new", "setup", "sent", "on_hold"]
    best: tuple[int, int, str] | None = None
    with ctx.db.read() as conn:
        types = sorted(code for code in order_types(conn) if code != "DISCONNECT")
        candidates = [f"type:{t}" for t in types]
        for t in types:
            for n in (1, 2, 3):
                candidates += [f"type:{t} status:{','.join(c)}" for c in combinations(statuses, n)]
        for text in candidates:
            count = queue.count_matching(conn, queue.parse_filter(text), ctx.today())
            rank = (abs(count - target), len(text), text)
            if best is None or rank < best:
                best = rank
                chosen = (text, count)
    ctx.db.dispose()
    return chosen


PACKAGE_COPY: Path | None = None
"""Where the copy of the package that every run measures is (see `copy_package`)."""


def copy_package(workdir: Path) -> tuple[Path, str, str]:
    """Copy `wo_tui` and `styles` (compiled) for every run to import through PYTHONPATH, so
    that all runs measure the same code even if the working tree is edited meanwhile.
    Returns the folder, a fingerprint of the sources and the time of the newest one."""
    src = workdir / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "wo_tui", src / "wo_tui", ignore=ignore)
    shutil.copytree(ROOT / "styles", src / "styles", ignore=ignore)
    compileall.compile_dir(src / "wo_tui", quiet=1)
    digest = hashlib.sha1()
    newest = 0.0
    for file in sorted((ROOT / "wo_tui").rglob("*")) + sorted((ROOT / "styles").rglob("*")):
        if file.is_file() and "__pycache__" not in file.parts:
            digest.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
            newest = max(newest, file.stat().st_mtime)
    return src, digest.hexdigest()[:12], f"{datetime.fromtimestamp(newest):%Y-%m-%d %H:%M:%S}"


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WO_TUI_", "TEXTUAL"))}
    env["TERM"] = "xterm-256color"
    env.pop("COLORTERM", None)
    env.pop("NO_COLOR", None)
    if PACKAGE_COPY is not None:
        env["PYTHONPATH"] = str(PACKAGE_COPY)
    return env


# =========================================================================== first paint (pty)


@dataclass
class PaintResult:
    seconds: float | None
    """None: not painted within PAINT_TIMEOUT_S."""
    cpu_s: float | None = None
    """CPU time (user + system) the process had used when the first row arrived."""
    vmhwm_mb: float | None = None


def drain(child: Any, seconds: float) -> None:
    """Read (and drop) the terminal output for `seconds`, so the app never blocks writing."""
    import pexpect

    end = time.perf_counter() + seconds
    while (left := end - time.perf_counter()) > 0:
        try:
            child.read_nonblocking(1 << 20, timeout=min(left, 0.05))
        except pexpect.TIMEOUT:
            pass
        except pexpect.EOF:
            return


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process (its threads included)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def vmhwm_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


def pty_first_paint(command: list[str], page_keys: list[bytes]) -> PaintResult:
    """Spawn `command` in a 160x50 pseudo-terminal; seconds until the first order number is
    on the terminal; then send `page_keys` and read the peak RSS."""
    import pexpect

    t0 = time.perf_counter()
    child = pexpect.spawn(
        command[0], command[1:], dimensions=(SIZE[1], SIZE[0]), env=clean_env(), timeout=None
    )
    try:
        child.expect(FIRST_ROW, timeout=PAINT_TIMEOUT_S)
        seconds = time.perf_counter() - t0
        cpu = proc_cpu_s(child.pid)
    except pexpect.TIMEOUT:
        child.terminate(force=True)
        return PaintResult(None)
    except pexpect.EOF:
        raise RuntimeError(f"{command} ended before painting: {child.before[-2000:]!r}") from None
    drain(child, 0.3)
    for key in page_keys:
        child.send(key)
        drain(child, 0.15)
    drain(child, 1.0)
    peak = vmhwm_mb(child.pid)
    child.send(b"\x11")  # ctrl+q
    try:
        child.expect(pexpect.EOF, timeout=30)
    except pexpect.TIMEOUT:
        child.terminate(force=True)
    child.close(force=True)
    return PaintResult(seconds, cpu, peak)


PAGE_DOWN = b"\x1b[6~"
WO_PAGING = [PAGE_DOWN] * 10 + [b"G", b"g"]
TABLE_PAGING = [PAGE_DOWN] * 10 + [b"\x1b[1;5F", b"\x1b[1;5H"]  # ctrl+end, ctrl+home


# =========================================================================== headless harness


def widget_settled(widget: Any) -> bool:
    """No repaint, layout or scroll of `widget` is pending: whatever it was asked to show has
    been taken by the compositor (a widget the compositor does not show never takes its dirty
    regions, so it is not waited for)."""
    screen = widget.screen
    if widget not in screen._compositor.visible_widgets:
        return True
    if widget._repaint_required or widget._layout_required or widget._scroll_required:
        return False
    return not (widget._repaint_regions and repaint_on_its_way(screen, widget))


def repaint_on_its_way(screen: Any, widget: Any) -> bool:
    """The screen has the widget's repaint to draw: queued (an Update message) or taken
    (among its dirty widgets). A widget's dirty regions alone do not say so: Textual drops
    the Update of a widget that asked for a repaint while its screen was being laid out
    whole (that layout drew it), and leaves its regions set until its next repaint. Waiting
    for those never ended (5 bulk runs of 12, 19:40)."""
    from textual.messages import Update

    if widget in screen._dirty_widgets:
        return True
    queued = screen._message_queue.values  # the deque of textual._queue.Queue
    return any(isinstance(m, Update) and m.widget is widget for m in queued)


def screen_repainted(screen: Any, *, layout: bool = False) -> bool:
    """No repaint of the screen itself pending (and, with `layout`, no layout: a screen's
    `_layout_required` is still set while the layout it asked for is drawn)."""
    return not (
        screen._repaint_required or screen._repaint_regions or (layout and screen._layout_required)
    )


def screen_settled(screen: Any) -> bool:
    """`widget_settled` for every widget on the screen, and `screen_repainted`."""
    return screen_repainted(screen) and all(widget_settled(w) for w in screen.walk_children())


class FrameProbe:
    """Wraps `App._display` (the compositor's frame on its way to the driver): encodes every
    frame to the ANSI text a terminal would receive (what the real driver does and the headless
    one skips), then resolves the waiters whose condition holds for that frame."""

    def __init__(self, app: Any) -> None:
        from textual._compositor import CompositorUpdate

        self.app = app
        self.frames = 0
        self.start = self.last_frame = Lap.now()
        """When the last timed key was posted; the clocks at the last frame."""
        self.encode_s: list[float] = []
        self.waiters: list[tuple[Callable[[Any], bool], asyncio.Future[Lap]]] = []
        original = app._display

        def display(screen: Any, renderable: Any) -> None:
            original(screen, renderable)
            if renderable is None or app._batch_count:
                return
            t0 = time.perf_counter()
            if isinstance(renderable, CompositorUpdate):
                renderable.render_segments(app.console)
            now = time.perf_counter()
            self.encode_s.append(now - t0)
            self.frames += 1
            self.last_frame = Lap(now, time.process_time())
            for waiter in list(self.waiters):
                predicate, future = waiter
                if not future.done() and predicate(screen):
                    future.set_result(self.last_frame)
                    self.waiters.remove(waiter)

        app._display = display

    def expect(self, predicate: Callable[[Any], bool]) -> asyncio.Future[Lap]:
        """A future resolved with the clocks at the first frame for which `predicate(screen)`."""
        future: asyncio.Future[Lap] = asyncio.get_running_loop().create_future()
        self.waiters.append((predicate, future))
        return future

    async def settle(self) -> Lap:
        """Wait until no worker runs, nothing is left to draw and no frame came for SETTLE_S;
        returns the time from the last timed key to the last frame: when everything the key
        caused (e.g. counts read after the rows) had been painted."""
        began = time.perf_counter()
        while True:
            frames = self.frames
            await asyncio.sleep(SETTLE_S)
            busy = any(not w.is_finished for w in self.app.workers)
            drawn = screen_settled(self.app.screen)
            if time.perf_counter() - began > STEP_TIMEOUT_S:
                raise TimeoutError(f"never settled: {self.state()}")
            if self.frames == frames and drawn and not busy and not self.waiters:
                # No frame since the key (a refresh that found nothing new draws none):
                # nothing was left to paint after the key's own work, 0 here.
                return max(self.last_frame - self.start, Lap(0.0, 0.0))

    def state(self) -> str:
        """What is still pending, for a step that never ends."""
        screen = self.app.screen

        def flags(w: Any) -> str:
            regions = list(w._repaint_regions)
            return (
                f"repaint={w._repaint_required} regions={regions} "
                f"layout={w._layout_required} scroll={w._scroll_required}"
            )

        pending = [
            f"{type(w).__name__}#{w.id} ({flags(w)})"
            for w in screen.walk_children()
            if not widget_settled(w)
        ]
        workers = [w.name for w in self.app.workers if not w.is_finished]
        return (
            f"screen {type(screen).__name__} ({flags(screen)}); "
            f"widgets not drawn {pending}; workers {workers}; "
            f"{len(self.waiters)} waiters; {self.frames} frames"
        )

    def post_key(self, key: str) -> None:
        """Post a key as the terminal driver would (what `Pilot.press` does, minus its sleeps)."""
        from textual import events

        char = key if len(key) == 1 else {"space": " "}.get(key)
        event = events.Key(key, char)
        event.set_sender(self.app)
        self.app._driver.send_message(event)

    async def key(
        self, key: str, done: Callable[[Any], bool], timeout: float = STEP_TIMEOUT_S
    ) -> Lap:
        """Wall and CPU seconds from posting `key` until the first frame where `done(screen)`."""
        future = self.expect(done)
        self.start = Lap.now()
        self.post_key(key)
        try:
            return await asyncio.wait_for(future, timeout) - self.start
        except TimeoutError:
            raise TimeoutError(f"key {key!r}: no frame showed it done; {self.state()}") from None

    async def call(self, action: Callable[[], Any], done: Callable[[Any], bool]) -> Lap:
        """Wall and CPU seconds from calling `action` until the first frame where `done`."""
        future = self.expect(done)
        self.start = Lap.now()
        action()
        return await asyncio.wait_for(future, STEP_TIMEOUT_S) - self.start


class Lap(NamedTuple):
    """A wall-clock time (perf_counter) and this process's CPU time (process_time, all
    threads); a difference of two is a latency and the CPU the process spent in it. On a
    shared machine, wall >> cpu means the process waited for a core."""

    wall: float
    cpu: float

    @classmethod
    def now(cls) -> Lap:
        return cls(time.perf_counter(), time.process_time())

    def __sub__(self, other: Any) -> Lap:  # type: ignore[override]
        return Lap(self.wall - other.wall, self.cpu - other.cpu)

    def __add__(self, other: Any) -> Lap:  # type: ignore[override]
        return Lap(self.wall + other.wall, self.cpu + other.cpu)


@dataclass
class OpTimes:
    """Per-operation latencies of one child run."""

    samples: dict[str, list[Lap]] = field(default_factory=dict)

    def add(self, op: str, lap: Lap) -> None:
        self.samples.setdefault(op, []).append(lap)

    def medians_ms(self) -> dict[str, float]:
        return {op: statistics.median(x.wall for x in s) * 1000 for op, s in self.samples.items()}

    def cpu_medians_ms(self) -> dict[str, float]:
        return {op: statistics.median(x.cpu for x in s) * 1000 for op, s in self.samples.items()}


def budget_reached(times: OpTimes, op: str, reps: int, budget_s: float) -> bool:
    done = times.samples.get(op, [])
    return len(done) >= reps or (len(done) >= 5 and sum(x.wall for x in done) > budget_s)


def peak_rss_mb() -> float:
    """This process's peak resident set size: VmHWM, not ru_maxrss, which on Linux carries
    over the peak of the process that forked it (exec keeps the larger of the two), so a
    child started by this benchmark would report at least the parent's size."""
    peak = vmhwm_mb(os.getpid())
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wo_app(db_path: Path, config: Path) -> tuple[Any, Any]:
    from wo_tui.config import load_settings
    from wo_tui.core.context import Context
    from wo_tui.core.db import connect
    from wo_tui.tui.app import make_app

    settings = load_settings(
        config, environ={}, overrides={"ui": {"refresh_interval_seconds": 3600}}
    )
    ctx = Context(connect(str(db_path)), "bench")
    return make_app(settings, ctx), ctx


class Applied(NamedTuple):
    """What a snapshot the dashboard showed had asked for."""

    filter: Any
    sort: Any
    keep: bool
    at: Lap
    """When the dashboard applied it."""


class Dashboard:
    """Handles on the dashboard of a running app, and the conditions the probe waits for."""

    def __init__(self, app: Any) -> None:
        from wo_tui.tui.screens.dashboard import DashboardScreen

        self.app = app
        self.screen: Any = next(s for s in app.screen_stack if isinstance(s, DashboardScreen))
        self.view = self.screen.view
        self.table = self.screen.table
        self.applied: list[Applied] = []
        """Snapshots shown (the ones that matched the filter and sort when they arrived);
        only what was asked is kept, not the rows, so the harness adds no memory."""
        apply = self.view.apply

        def counting_apply(snapshot: Any) -> Any:
            current = (snapshot.filter, snapshot.sort) == (self.view.filter, self.view.sort)
            result = apply(snapshot)
            if current and snapshot.window is not None:
                self.applied.append(
                    Applied(snapshot.filter, snapshot.sort, snapshot.keep, Lap.now())
                )
            return result

        self.view.apply = counting_apply

    def settled(self) -> bool:
        """Nothing left to draw on the dashboard (under a modal screen, only its widgets count:
        a background screen keeps the regions it forwarded to the top screen as its own)."""
        if self.app.screen is self.screen:
            done = screen_settled(self.screen)
        else:
            done = all(widget_settled(w) for w in self.screen.walk_children())
        return done and not self.app._animator._animations

    def shows(self, check: Callable[[], bool]) -> Callable[[Any], bool]:
        """A frame condition: `check()` holds and the dashboard has nothing left to draw."""
        return lambda screen: screen is self.screen and check() and self.settled()

    def applied_since(self, count: int, check: Callable[[Any], bool]) -> Callable[[], bool]:
        return lambda: len(self.applied) > count and check(self.applied[-1])

    async def read_shown(self, probe: FrameProbe, key: str, check: Callable[[Any], bool]) -> Lap:
        """From posting `key` until the read it causes (`check` on what was asked) is on the
        screen. A read that changed nothing needs no frame (the dashboard redraws only what
        changed): then it is shown when it was applied and nothing is left to draw."""
        count = len(self.applied)
        arrived = self.applied_since(count, check)
        probe.start = start = Lap.now()
        probe.post_key(key)
        deadline = time.perf_counter() + STEP_TIMEOUT_S
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.001)
            if arrived() and self.settled():
                applied = self.applied[-1].at
                shown = probe.last_frame if probe.last_frame.wall > applied.wall else applied
                return shown - start
        raise TimeoutError(f"{key}: the read was not shown within {STEP_TIMEOUT_S} s")


async def wo_keystrokes(db_path: Path, config: Path, reps: int, budget_s: float) -> dict[str, Any]:
    """Section 3 for wo-tui: latencies of each key, plus what the worker's reads cost."""
    from wo_tui.core import queue
    from wo_tui.tui.screens.dashboard import DashboardScreen

    app, ctx = wo_app(db_path, config)
    probe = FrameProbe(app)
    times = OpTimes()

    def first_rows(screen: Any) -> bool:
        return (
            isinstance(screen, DashboardScreen)
            and bool(screen.view.rows)
            and screen_settled(screen)
        )

    first = probe.expect(first_rows)
    start = Lap.now()
    async with app.run_test(size=SIZE):
        load = await asyncio.wait_for(first, STEP_TIMEOUT_S) - start
        d = Dashboard(app)
        view = d.view
        await probe.settle()

        async def reset_top() -> None:
            if view.position or view.first_index or view.top:
                probe.post_key("g")
            await probe.settle()

        # cursor down: moves inside the screen, then moves that scroll it (classified by result)
        while not (
            budget_reached(times, "down", reps, budget_s)
            and budget_reached(times, "down_scroll", reps, budget_s)
        ):
            await reset_top()
            for _ in range(2 * view.height):
                target, top = view.position + 1, view.first_index + view.top
                lap = await probe.key("down", d.shows(lambda t=target: view.position == t))
                op = "down" if view.first_index + view.top == top else "down_scroll"
                times.add(op, lap)
                times.add(f"{op}+", await probe.settle())

        # page down, from the top, as far as the repetitions go
        await reset_top()
        while not budget_reached(times, "page_down", reps, budget_s):
            start = view.position
            times.add(
                "page_down", await probe.key("pagedown", d.shows(lambda s=start: view.position > s))
            )
            times.add("page_down+", await probe.settle())

        # G and g, alternately
        last = view.total - 1
        while not budget_reached(times, "end", reps, budget_s):
            times.add("end", await probe.key("G", d.shows(lambda: view.position == last)))
            times.add("end+", await probe.settle())
            times.add("start", await probe.key("g", d.shows(lambda: view.position == 0)))
            times.add("start+", await probe.settle())

        # space: mark the row and move down
        await reset_top()
        while not budget_reached(times, "mark", reps, budget_s):
            marks, target = len(view.marks), view.position + 1
            done = d.shows(
                lambda m=marks, t=target: len(view.marks) == m + 1 and view.position == t
            )
            times.add("mark", await probe.key("space", done))
            times.add("mark+", await probe.settle())
        probe.post_key("escape")  # clear the marks
        await probe.settle()
        assert not view.marks

        # the filter box: type FILTER_WORD one character at a time (the read runs in a worker)
        box = d.screen.query_one("#filter")
        probe.post_key("slash")
        await probe.settle()
        while not budget_reached(times, "filter_char", reps, budget_s):
            box.value = ""
            await probe.settle()
            for n in range(1, len(FILTER_WORD) + 1):
                text = FILTER_WORD[:n]
                check = d.applied_since(len(d.applied), lambda s, t=text: s.filter.text == t)
                times.add("filter_char", await probe.key(text[-1], d.shows(check)))
                times.add("filter_char+", await probe.settle())
        filtered = view.total
        box.value = ""
        await probe.settle()
        probe.post_key("escape")  # close the box (the filter is empty again)
        await probe.settle()

        # sort by the customer column: o and O alternately (each re-reads the queue)
        while d.table.cursor_column.key != SORT_COLUMN:
            probe.post_key("l")
            await probe.settle()
        descending = False
        while not budget_reached(times, "sort", reps, budget_s):
            key = "O" if descending else "o"
            check = d.applied_since(
                len(d.applied),
                lambda s, w=descending: (s.sort.column, s.sort.descending) == (SORT_COLUMN, w),
            )
            times.add("sort", await probe.key(key, d.shows(check)))
            times.add("sort+", await probe.settle())
            descending = not descending

        # r: re-read around the current rows (what the refresh timer does every 5 s), first
        # still sorted by customer, then in the default order (priority, due date, number)
        for op in ("refresh_sorted", "refresh"):
            if op == "refresh":
                while d.table.cursor_column.key != "priority":
                    probe.post_key("h")
                    await probe.settle()
                probe.post_key("o")
                await probe.settle()
                assert view.sort == queue.SortOrder(), view.sort
            while not budget_reached(times, op, reps, budget_s):
                times.add(op, await d.read_shown(probe, "r", lambda s: s.keep))
                times.add(f"{op}+", await probe.settle())
        rss = peak_rss_mb()
        db = worker_reads(view, ctx, filtered)
    ctx.db.dispose()
    return {
        "ms": times.medians_ms(),
        "cpu_ms": times.cpu_medians_ms(),
        "reps": {op: len(s) for op, s in times.samples.items()},
        "load_s": load.wall,
        "load_cpu_s": load.cpu,
        "rss_mb": rss,
        "encode_ms": statistics.median(probe.encode_s) * 1000,
        "db_ms": db,
        "filtered": filtered,
        "height": view.height,
    }


def worker_reads(view: Any, ctx: Any, filtered: int) -> dict[str, float]:
    """Milliseconds (median) of the reads behind the worker-thread keys, called directly."""
    from dataclasses import replace

    from wo_tui.core import queue

    def timed(call: Callable[[], Any], n: int = 7) -> float:
        call()
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            call()
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples) * 1000

    word = replace(view, filter=queue.parse_filter(FILTER_WORD), sort=queue.SortOrder())
    customer = replace(view, filter=queue.QueueFilter(), sort=queue.SortOrder(SORT_COLUMN))
    plain = replace(view, filter=queue.QueueFilter(), sort=queue.SortOrder())
    today = ctx.today()
    with ctx.db.read() as conn:
        counts: dict[str, float] = {
            f"count_matching('{FILTER_WORD}')": timed(
                lambda: queue.count_matching(conn, word.filter, today)
            ),
            "count_matching(all open)": timed(
                lambda: queue.count_matching(conn, plain.filter, today)
            ),
            "count_buckets": timed(lambda: queue.count_buckets(conn, today)),
        }
    counts = {
        f"view.read: filter '{FILTER_WORD}' ({filtered:,} rows match)": timed(
            lambda: word.read(word.snapshot_request(keep=False))
        ),
        f"view.read: sort {SORT_COLUMN}": timed(
            lambda: customer.read(customer.snapshot_request(keep=False))
        ),
        "view.read: refresh (keep)": timed(lambda: plain.read(plain.snapshot_request(keep=True))),
        **counts,
    }
    return counts


async def table_keystrokes(
    script: Path, db_path: Path, limit: int, reps: int, budget_s: float
) -> dict[str, Any]:
    """Section 3 for the built-in DataTable holding every open row (or `limit`)."""
    from textual.coordinate import Coordinate
    from textual.widgets import DataTable

    base = load_baseline(script)
    rows = base.load_rows(str(db_path), limit)
    row_count = len(rows)
    app = base.make_app(rows, "builtin")  # takes the rows (and empties the list)
    del rows
    probe = FrameProbe(app)
    times = OpTimes()
    holder: dict[str, Any] = {}

    def table_settled() -> bool:
        table = holder.get("table")
        return table is not None and widget_settled(table) and not app._animator._animations

    def first_rows(screen: Any) -> bool:
        tables = screen.query(DataTable)
        if not tables or not tables.first().row_count:
            return False
        holder["table"] = tables.first()
        return table_settled()

    def shows(check: Callable[[], bool]) -> Callable[[Any], bool]:
        return lambda _screen: check() and table_settled()

    first = probe.expect(first_rows)
    start = Lap.now()
    async with app.run_test(size=SIZE):
        load = await asyncio.wait_for(first, STEP_TIMEOUT_S * 5) - start
        table = holder["table"]
        await probe.settle()

        async def reset_top() -> None:
            if table.cursor_row or table.scroll_y:
                probe.post_key("ctrl+home")
            await probe.settle()

        height = table.scrollable_content_region.height - 1
        while not (
            budget_reached(times, "down", reps, budget_s)
            and budget_reached(times, "down_scroll", reps, budget_s)
        ):
            await reset_top()
            for _ in range(2 * height):
                target, top = table.cursor_row + 1, table.scroll_y
                lap = await probe.key("down", shows(lambda t=target: table.cursor_row == t))
                op = "down" if table.scroll_y == top else "down_scroll"
                times.add(op, lap)
                times.add(f"{op}+", await probe.settle())

        await reset_top()
        while not budget_reached(times, "page_down", reps, budget_s):
            start = table.cursor_row
            times.add(
                "page_down",
                await probe.key("pagedown", shows(lambda s=start: table.cursor_row > s)),
            )
            times.add("page_down+", await probe.settle())

        last = table.row_count - 1
        while not budget_reached(times, "end", reps, budget_s):
            times.add("end", await probe.key("ctrl+end", shows(lambda: table.cursor_row == last)))
            times.add("end+", await probe.settle())
            times.add("start", await probe.key("ctrl+home", shows(lambda: table.cursor_row == 0)))
            times.add("start+", await probe.settle())

        await reset_top()
        while not budget_reached(times, "mark", reps, budget_s):
            row = table.cursor_row

            def mark(r: int = row) -> None:
                table.update_cell_at(Coordinate(r, 0), "●")
                table.action_cursor_down()

            times.add(
                "mark", await probe.call(mark, shows(lambda t=row + 1: table.cursor_row == t))
            )
            times.add("mark+", await probe.settle())

        descending = False
        while not budget_reached(times, "sort", reps, max(budget_s, 20.0)):
            times.add(
                "sort",
                await probe.call(
                    lambda w=descending: table.sort(SORT_COLUMN, reverse=w), shows(lambda: True)
                ),
            )
            times.add("sort+", await probe.settle())
            descending = not descending
        rss = peak_rss_mb()
    return {
        "ms": times.medians_ms(),
        "cpu_ms": times.cpu_medians_ms(),
        "reps": {op: len(s) for op, s in times.samples.items()},
        "load_s": load.wall,
        "load_cpu_s": load.cpu,
        "rss_mb": rss,
        "rows": row_count,
        "height": height,
    }


async def wo_bulk(db_path: Path, config: Path, flt: str, limit_s: float) -> dict[str, Any]:
    """Section 4: ctrl+a, c, y, Esc on the queue filtered by `flt`; seconds of each step. A
    step still waiting near `limit_s` (when the parent stops the run) reports what it waits
    for on stderr."""
    from wo_tui.core import queue, status_changes
    from wo_tui.tui.screens.confirm import ConfirmBulkScreen
    from wo_tui.tui.screens.dashboard import DashboardScreen
    from wo_tui.tui.screens.outcome import BatchOutcomeScreen

    inner: dict[str, float] = {}

    def timed(module: Any, name: str) -> None:
        original = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                inner[name] = inner.get(name, 0.0) + time.perf_counter() - t0

        setattr(module, name, wrapper)

    timed(queue, "matching_ids")
    timed(status_changes, "preview")
    timed(status_changes, "bulk_complete")

    app, ctx = wo_app(db_path, config)
    probe = FrameProbe(app)
    first = probe.expect(
        lambda s: isinstance(s, DashboardScreen) and bool(s.view.rows) and screen_settled(s)
    )
    async with app.run_test(size=SIZE):
        await asyncio.wait_for(first, STEP_TIMEOUT_S)
        d = Dashboard(app)
        view = d.view
        await probe.settle()
        probe.post_key("slash")
        await probe.settle()
        d.screen.query_one("#filter").value = flt
        await probe.settle()
        probe.post_key("escape")
        await probe.settle()
        matching = view.total
        inner.clear()

        begin = Lap.now()
        t_marked = await probe.key("ctrl+a", d.shows(lambda: len(view.marks) == matching))
        t_confirm = await probe.key(
            "c", lambda s: isinstance(s, ConfirmBulkScreen) and screen_settled(s)
        )
        applied = len(d.applied)
        # The result dialog is opaque: the queue under it is re-read (its snapshot applied)
        # but not drawn until the dialog closes. Textual does not hand a screen under a
        # dialog its widgets' repaints, so waiting for them there could wait forever (it
        # did, in one run of three). The queue is seen repainted after Esc.
        t_done = await probe.key(
            "y",
            lambda s: (
                isinstance(s, BatchOutcomeScreen)
                and screen_settled(s)
                and len(d.applied) > applied
                and d.applied[-1].keep
            ),
            timeout=0.9 * limit_s,
        )
        outcome = app.screen.outcome
        done = len(outcome.ids(status_changes.Result.DONE))
        # Back on top, Textual repaints the queue screen whole; the flags its widgets got
        # while under the dialog stay set until they are refreshed again, so here "repainted"
        # is the screen's own state, on the first frame it draws.
        t_close = await probe.key(
            "escape",
            lambda s: (
                s is d.screen and screen_repainted(s, layout=True) and not app._animator._animations
            ),
        )
        total = t_marked + t_confirm + t_done + t_close
        await probe.settle()
        everything = probe.last_frame - begin  # the counts too, if they come after the rows
        left = view.total
    ctx.db.dispose()
    return {
        "matching": matching,
        "done": done,
        "left": left,
        "total_s": total.wall,
        "total_cpu_s": total.cpu,
        "all_s": everything.wall,
        "mark_s": t_marked.wall,
        "confirm_s": t_confirm.wall,
        "complete_s": t_done.wall,
        "close_s": t_close.wall,
        "inner_s": inner,
    }


def child_main(args: argparse.Namespace) -> int:
    """One measurement in this (child) process; the result is one JSON line on stdout."""
    db, config = Path(args.child_db), Path(args.config or os.devnull)
    if args.child == "keys-wo":
        result = asyncio.run(wo_keystrokes(db, config, args.reps, args.budget))
    elif args.child == "keys-table":
        result = asyncio.run(
            table_keystrokes(Path(args.script), db, args.limit, args.reps, args.budget)
        )
    elif args.child == "bulk-wo":
        result = asyncio.run(wo_bulk(db, config, args.filter, args.bulk_limit))
    else:
        raise SystemExit(f"unknown child {args.child}")
    package = sys.modules.get("wo_tui")
    result["package"] = str(Path(package.__file__).parent) if package and package.__file__ else ""
    print(json.dumps(result))
    return 0


def shown_ms(result: dict[str, Any]) -> dict[str, float]:
    return {op: round(ms, 1) for op, ms in result["ms"].items() if not op.endswith("+")}


def shown_reps(result: dict[str, Any]) -> str:
    return ", ".join(f"{op} {n}" for op, n in result["reps"].items() if not op.endswith("+"))


def run_child(kind: str, *extra: str, timeout: float | None = None) -> dict[str, Any] | None:
    """Run one measurement in a child process; None if it failed or was stopped after
    `timeout` s."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, *extra]
    try:
        done = subprocess.run(
            command,
            stdout=subprocess.PIPE,
            text=True,
            env=clean_env(),
            cwd=ROOT,
            check=False,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        log(f"  child {kind} stopped after {timeout:g} s")
        return None
    if done.returncode != 0:
        log(f"  child {kind} failed with status {done.returncode} (its error is above)")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# =========================================================================== the table


@dataclass
class Row:
    """One line of the result table: wo-tui's per-run figures beside the baselines'."""

    label: str
    unit: str
    target: float | None = None
    runs: list[float | None] = field(default_factory=list)
    cpu: list[float | None] = field(default_factory=list)
    """CPU time of wo-tui's process in the same interval, per run."""
    table: list[float | None] = field(default_factory=list)
    fast: list[float | None] = field(default_factory=list)
    limit: float | None = None
    """Seconds after which a run was stopped: None in a run means "> limit"."""


def median_of(values: list[float | None]) -> float | None:
    """The median; None (stopped: did not finish) counts as larger than any figure."""
    if not values:
        return None
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    middle = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
    if any(v is None for v in middle):
        return None
    return statistics.mean(v for v in middle if v is not None)


def fmt(value: float | None, unit: str, limit: float | None = None) -> str:
    if value is None:
        return f"> {limit:g} s" if limit else "n/a"
    if unit == "s":
        return f"{value:.2f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def ratio(mine: float | None, other: list[float | None], limit: float | None) -> str:
    if not other or mine is None:
        return ""
    theirs = median_of(other)
    if theirs is None:
        return f"< {mine / limit:.3f}" if limit else ""
    value = mine / theirs
    return f"{value:.3f}" if value < 0.1 else f"{value:.2f}" if value < 10 else f"{value:,.0f}"


def print_table(rows: list[Row], fast_label: str) -> list[str]:
    """The results table; returns the targets missed."""
    missed = []
    header = (
        "measure",
        "wo-tui",
        "unit",
        "runs min-max",
        "cpu",
        "target",
        "verdict",
        "DataTable",
        "ratio",
        fast_label,
        "ratio",
    )
    lines = []
    for row in rows:
        mine = median_of(row.runs)
        known = [v for v in row.runs if v is not None]
        spread = ""
        if len(row.runs) > 1 and known:
            top = fmt(max(known), row.unit) if len(known) == len(row.runs) else f"> {row.limit:g}"
            spread = f"{fmt(min(known), row.unit)}-{top}"
        cpu = fmt(median_of(row.cpu), row.unit) if row.cpu else ""
        target = verdict = ""
        if row.target is not None:
            target = f"< {row.target:g}"
            ok = mine is not None and mine < row.target
            verdict = "met" if ok else "MISSED"
            if not ok:
                missed.append(f"{row.label.strip()}: {fmt(mine, row.unit, row.limit)} {row.unit}")
        table = fmt(median_of(row.table), row.unit, row.limit) if row.table else ""
        fast = fmt(median_of(row.fast), row.unit, row.limit) if row.fast else ""
        lines.append(
            (
                row.label,
                fmt(mine, row.unit, row.limit),
                row.unit,
                spread,
                cpu,
                target,
                verdict,
                table,
                ratio(mine, row.table, row.limit),
                fast,
                ratio(mine, row.fast, row.limit),
            )
        )
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        out = []
        for i, cell in enumerate(cells):
            out.append(cell.ljust(widths[i]) if i in (0, 2, 6) else cell.rjust(widths[i]))
        return "| " + " | ".join(out) + " |"

    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for cells in lines:
        print(line(cells))
    return missed


WORKER_KEYS = ("filter_char", "sort", "refresh", "refresh_sorted")
"""Keys whose read runs in the dashboard's worker thread."""
KEY_ROWS = (
    ("down", "key: cursor down, inside the screen (down / j)"),
    ("down_scroll", "key: cursor down, scrolling one row"),
    ("page_down", "key: page down"),
    ("end", "key: jump to end (G / ctrl+end)"),
    ("start", "key: jump to start (g / ctrl+home)"),
    ("mark", "key: mark row and move down (space / update_cell_at)"),
    ("filter_char", f"key: one character typed in the filter ('{FILTER_WORD}')"),
    ("sort", f"key: sort by {SORT_COLUMN} (o, O / DataTable.sort)"),
    ("refresh", "key: refresh (r; the 5 s timer's work), default order"),
    ("refresh_sorted", f"key: refresh (r), sorted by {SORT_COLUMN}"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000, help="open orders wanted")
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--db", help="SQLite file to seed (or reuse if it holds orders)")
    parser.add_argument("--bulk", type=int, default=10_000, help="orders to bulk-complete")
    parser.add_argument("--reps", type=int, default=40, help="repetitions of a key per run")
    parser.add_argument(
        "--budget", type=float, default=8.0, help="seconds of one key's repetitions per run"
    )
    parser.add_argument(
        "--bulk-limit", type=float, default=300.0, help="seconds after which a bulk run stops"
    )
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=0,
        help="rows in the DataTable baselines (0: every open order)",
    )
    parser.add_argument(
        "--skip", default="", help="sections to skip, comma-separated: paint,keys,bulk"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    # internal: one measurement in a child process
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-db", help=argparse.SUPPRESS)
    parser.add_argument("--config", help=argparse.SUPPRESS)
    parser.add_argument("--script", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--filter", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)

    skip = set(filter(None, args.skip.split(",")))
    workdir = Path(tempfile.mkdtemp(prefix="wo-bench-dash-"))
    try:
        return run_all(args, workdir, skip)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def run_all(args: argparse.Namespace, workdir: Path, skip: set[str]) -> int:
    import textual

    global PACKAGE_COPY
    PACKAGE_COPY, fingerprint, newest = copy_package(workdir)
    sys.path.insert(0, str(PACKAGE_COPY))
    path, facts = set_up(args, workdir)
    speed_before = gauge()
    config = workdir / "empty.toml"
    config.write_text("# bench_dashboard: defaults only\n")
    script = write_baseline(workdir)
    fast = have_fastdatatable()
    fast_label = "fastdatatable" if fast else "fastdatatable (not installed)"
    limit = args.baseline_rows or facts["open"]
    python = sys.executable
    wo_command = [str(Path(python).parent / "wo-tui"), "--config", str(config), "--db", str(path)]
    if not Path(wo_command[0]).exists():
        wo_command = [python, "-m", "wo_tui", *wo_command[1:]]

    rows: list[Row] = []
    paint = Row(
        "first paint: process start -> first order on the pty",
        "s",
        TARGET_PAINT_S,
        limit=PAINT_TIMEOUT_S,
    )
    mem_pty = Row("peak RSS after paging, the real process in the pty (VmHWM)", "MB")
    if "paint" not in skip:
        for run in range(args.runs):
            log(f"first paint: run {run + 1}/{args.runs}")
            result = pty_first_paint(wo_command, WO_PAGING)
            paint.runs.append(result.seconds)
            paint.cpu.append(result.cpu_s)
            mem_pty.runs.append(result.vmhwm_mb)
            log(f"  wo-tui {fmt(result.seconds, 's')}, {fmt(result.vmhwm_mb, 'MB')} MB")
            kinds = [("builtin", paint.table, mem_pty.table)]
            if fast:
                kinds.append(("fast", paint.fast, mem_pty.fast))
            for kind, figures, memory in kinds:
                command = [python, str(script), kind, str(path), str(limit)]
                result = pty_first_paint(command, TABLE_PAGING)
                figures.append(result.seconds)
                memory.append(result.vmhwm_mb)
                log(f"  {kind} {fmt(result.seconds, 's', PAINT_TIMEOUT_S)}")
        rows.append(paint)

    key_rows = {op: Row(label, "ms", TARGET_KEY_MS) for op, label in KEY_ROWS}
    load = Row("load -> first frame with rows, in process (headless)", "s")
    mem = Row("peak RSS after paging/filter/sort (VmHWM, headless)", "MB", TARGET_MEM_MB)
    encode = Row("  frame encoding to ANSI (render_segments), median frame", "ms")
    wo_results: list[dict[str, Any]] = []
    table_results: list[dict[str, Any]] = []
    if "keys" not in skip:
        common = ["--reps", str(args.reps), "--budget", str(args.budget)]
        for run in range(args.runs):
            log(f"keystrokes: run {run + 1}/{args.runs}: wo-tui")
            result = run_child("keys-wo", "--child-db", str(path), "--config", str(config), *common)
            if result is None:
                raise SystemExit("the keystroke run failed: its error is above")
            wo_results.append(result)
            log(f"  {result['package']}: {json.dumps(shown_ms(result))}")
            log(f"keystrokes: run {run + 1}/{args.runs}: DataTable with {limit:,} rows")
            base = run_child(
                "keys-table",
                "--child-db",
                str(path),
                "--script",
                str(script),
                "--limit",
                str(limit),
                *common,
            )
            if base is None:
                raise SystemExit("the DataTable keystroke run failed: its error is above")
            table_results.append(base)
            log(f"  {json.dumps(shown_ms(base))}")
        for op, row in key_rows.items():
            row.runs = [r["ms"].get(op) for r in wo_results]
            row.cpu = [r["cpu_ms"].get(op) for r in wo_results]
            if any(op in r["ms"] for r in table_results):
                row.table = [r["ms"].get(op) for r in table_results]
            rows.append(row)
            if op in WORKER_KEYS:
                rows.append(
                    Row(
                        "  -> until its last frame (the counts read after the rows too)",
                        "ms",
                        runs=[r["ms"].get(f"{op}+") for r in wo_results],
                        cpu=[r["cpu_ms"].get(f"{op}+") for r in wo_results],
                    )
                )
        load.runs = [r["load_s"] for r in wo_results]
        load.cpu = [r["load_cpu_s"] for r in wo_results]
        load.table = [r["load_s"] for r in table_results]
        mem.runs = [r["rss_mb"] for r in wo_results]
        mem.table = [r["rss_mb"] for r in table_results]
        encode.runs = [r["encode_ms"] for r in wo_results]
        rows.append(load)

    bulk_filter, bulk_count = choose_bulk_filter(path, args.bulk)
    bulk = Row(
        f"bulk: ctrl+a, c, y, Esc on {bulk_count:,} orders -> queue repainted",
        "s",
        TARGET_BULK_S,
        limit=args.bulk_limit,
    )
    parts = {
        "all_s": Row("  -> until the last frame (counts read after the rows too)", "s"),
        "mark_s": Row("  ctrl+a (mark all matching) -> repainted", "s"),
        "confirm_s": Row("  c (preview) -> confirmation painted", "s"),
        "complete_s": Row("  y (bulk_complete, reload) -> outcome over the queue", "s"),
        "close_s": Row("  Esc (close the outcome) -> queue repainted", "s"),
    }
    inner_rows = {
        "matching_ids": Row("    in queue.matching_ids", "s"),
        "preview": Row("    in status_changes.preview", "s"),
        "bulk_complete": Row("    in status_changes.bulk_complete", "s"),
    }
    bulk_results: list[dict[str, Any] | None] = []
    if "bulk" not in skip:
        for run in range(args.runs):
            log(f"bulk complete: run {run + 1}/{args.runs} ({bulk_filter!r}: {bulk_count:,})")
            copy = workdir / "bulk.db"
            copy_database(path, copy)
            result = run_child(
                "bulk-wo",
                "--child-db",
                str(copy),
                "--config",
                str(config),
                "--filter",
                bulk_filter,
                "--bulk-limit",
                str(args.bulk_limit),
                timeout=args.bulk_limit,
            )
            remove_database(copy)
            bulk_results.append(result)
            if result is None:
                log("  stopped: no figure for this run")
                continue
            log(f"  {result['total_s']:.3f} s; {result['done']:,} done of {result['matching']:,}")
        done_runs = [r for r in bulk_results if r is not None]
        bulk.runs = [r["total_s"] if r else None for r in bulk_results]
        bulk.cpu = [r["total_cpu_s"] if r else None for r in bulk_results]
        for key, row in parts.items():
            row.runs = [r[key] for r in done_runs]
        for key, row in inner_rows.items():
            row.runs = [r["inner_s"].get(key) for r in done_runs]
        rows.append(bulk)
        if done_runs:
            rows += [*parts.values(), *inner_rows.values()]
    if "keys" not in skip:
        rows.append(mem)
    if "paint" not in skip:
        rows.append(mem_pty)
    if "keys" not in skip:
        rows.append(encode)

    speed_after = gauge()
    print(f"# bench_dashboard  {datetime.now():%Y-%m-%d %H:%M}")
    print(
        f"Python {platform.python_version()}, Textual {textual.__version__}, "
        f"SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, {platform.machine()}, "
        f"load average {os.getloadavg()[0]:.1f}; terminal {SIZE[0]}x{SIZE[1]}; "
        f"runs: {args.runs}"
    )
    print(describe(speed_before, speed_after))
    print(
        f"package measured: a copy of wo_tui/ and styles/ taken at the start, fingerprint "
        f"{fingerprint}, newest file {newest}"
    )
    seeded = f"seeded in {facts['seed_s']:.0f} s" if facts["seed_s"] else "reused"
    print(
        f"database: {facts['orders']:,} orders, {facts['open']:,} open, "
        f"{facts['size_mb']:.0f} MB ({seeded}); buckets: {facts['buckets']}"
    )
    print(
        f"baselines: a Textual app with one table of {limit:,} rows (every open order"
        f"{'' if limit >= facts['open'] else ', LIMITED'}), read with one sqlite3 query; "
        "ratio = wo-tui / baseline (< 1: wo-tui faster or smaller)"
    )
    print(
        "cpu = CPU seconds of wo-tui's process in the same interval (all threads); "
        "wall >> cpu means it waited for a core (a shared machine)"
    )
    if wo_results:
        print(
            f"keystroke repetitions per run: wo-tui {shown_reps(wo_results[0])}; "
            f"DataTable {shown_reps(table_results[0])}; visible rows: wo-tui "
            f"{wo_results[0]['height']}, DataTable {table_results[0]['height']}"
        )
    done_runs = [r for r in bulk_results if r is not None]
    if bulk_results:
        r = done_runs[-1] if done_runs else None
        outcome = (
            f"{r['matching']:,} open orders matched; {r['done']:,} completed; "
            f"{r['left']:,} left in the filtered queue after"
            if r
            else f"every run stopped after {args.bulk_limit:g} s"
        )
        print(f"bulk filter {bulk_filter!r}: {outcome}")
    print()
    missed = print_table(rows, fast_label)
    if wo_results:
        print()
        print("## reads behind the worker-thread keys (called directly, ms, median of 7)")
        for name in wo_results[0]["db_ms"]:
            value = median_of([r["db_ms"][name] for r in wo_results])
            print(f"  {name}: {fmt(value, 'ms')}")
    print()
    if missed:
        print("TARGETS MISSED: " + "; ".join(missed))
    else:
        print("All targets met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
