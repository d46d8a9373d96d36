"""Terminal colour set-up, done before Textual is imported (it reads the environment once)."""

from __future__ import annotations

import os
from collections.abc import MutableMapping

_TEXTUAL_COLOR_SYSTEMS = {"truecolor": "truecolor", "256": "256", "16": "standard"}


def apply_color_mode(mode: str, environ: MutableMapping[str, str] | None = None) -> None:
    """Pick the colour system from the config: OpenSSH does not forward COLORTERM, so
    'auto' may guess low; 'none' is the same as NO_COLOR (status is shown in words)."""
    env = os.environ if environ is None else environ
    if mode == "none":
        env["NO_COLOR"] = "1"
    elif mode in _TEXTUAL_COLOR_SYSTEMS:
        env["TEXTUAL_COLOR_SYSTEM"] = _TEXTUAL_COLOR_SYSTEMS[mode]
