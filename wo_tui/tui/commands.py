"""The command palette: every action of the app with its key."""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.screen import Screen

from wo_tui.keys import ALL_BINDINGS
from wo_tui.tui.bindings import keys_in_force


def _binding_ids(screen: Screen[object]) -> set[str]:
    """The ids of the bindings a screen declares (its own and its base classes')."""
    return {
        binding.id
        for cls in type(screen).__mro__
        for binding in vars(cls).get("BINDINGS", ())
        if isinstance(binding, Binding) and binding.id
    }


class ActionsProvider(Provider):
    """Offers each binding's action by its description: the app's, and those of the screen
    the palette was opened from (the detail's actions are not offered on the dashboard)."""

    def _actions(self) -> list[tuple[str, str, str]]:
        on_screen = _binding_ids(self.screen)
        keys = keys_in_force(self.screen)
        seen: set[str] = set()
        found = []
        for binding in ALL_BINDINGS:
            if binding.description in seen:
                continue
            if binding.id.startswith("app."):
                action = f"app.{binding.action}"
            elif binding.id in on_screen:
                action = binding.action if "." in binding.action else f"screen.{binding.action}"
            else:
                continue
            seen.add(binding.description)
            key = keys.get(binding.id) or binding.keys.split(",")[0]
            found.append((binding.description, action, key))
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
