"""A poller process for the crash tests: `python poller_worker.py URL LIMIT [KILL_AT]`.

Processes one batch of up to LIMIT events; with KILL_AT (claimed, inserted, before_commit,
after_commit) it kills itself with SIGKILL at that point, as a power cut or the OOM killer
would: no cleanup, no rollback by Python. With `pause@POINT@FILE` instead it creates FILE at
that point and waits 2 seconds (another poller runs meanwhile)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from wo_tui.core.context import Context
from wo_tui.core.db import connect
from wo_tui.core.event_settings import EventsSettings
from wo_tui.core.poller import POLLER_OPERATOR, process_batch


def main() -> None:
    url, limit = sys.argv[1], int(sys.argv[2])
    kill_at = sys.argv[3] if len(sys.argv) > 3 else None

    def hook(point: str) -> None:
        if point == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if kill_at and kill_at.startswith(f"pause@{point}@"):
            Path(kill_at.split("@", 2)[2]).touch()
            time.sleep(2)

    ctx = Context(connect(url), POLLER_OPERATOR)
    result = process_batch(ctx, EventsSettings(), limit=limit, hooks=hook)
    print(result.summary())


if __name__ == "__main__":
    main()
