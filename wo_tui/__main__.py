"""`python -m wo_tui` is the `wo-tui` command."""

from wo_tui.cli import main

main()
