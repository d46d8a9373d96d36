"""Email to technicians: messages built from templates, and the outbox sender.

Plain Python: never imports Textual, Rich, the app, the screens or the command line (an
import-linter contract checks it). Import the sender lazily: aiosmtplib is not needed for
the app's first frame.
"""
