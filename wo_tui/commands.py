"""The command palette: every action of the app with its key."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from wo_tui.keys import ALL_BINDINGS


class ActionsProvider(Provider):
    """Offers each binding's action by its description: the app's, and those of the screen
    the palette was opened from (the detail's actions are not offered on the dashboard)."""

    def _actions(self) -> list[tuple[str, str, str]]:
        seen: set[str] = set()
        found = []
        for binding in ALL_BINDINGS:
            if binding.description in seen:
                continue
            action = binding.action if "." in binding.action else f"screen.{binding.action}"
            if binding.id.startswith("app."):
                action = f"app.{binding.action}"
            elif action.startswith("screen."):
                name = action.removeprefix("screen.").split("(")[0]
                if not hasattr(self.screen, f"action_{name}"):
                    continue
            seen.add(binding.description)
            found.append((binding.description, action, binding.keys.split(",")[0]))
        return found

    async def discover(self) -> Hits:
        for description, action, key in self._actions():
            yield DiscoveryHit(
                description, partial(self.app.run_action, action), help=f"key: {key}"
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for description, action, key in self._actions():
            score = matcher.match(description)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(description),
                    partial(self.app.run_action, action),
                    help=f"key: {key}",
                )
