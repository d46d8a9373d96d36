"""The full-screen app (Textual): the app, its screens and widgets, its background jobs.

Nothing here is imported before the app's first frame except `queue_view` and `terminal`,
which are plain Python; this package's `__init__` stays empty so that importing them loads
no Textual (docs/architecture.md)."""
