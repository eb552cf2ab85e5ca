"""Places a lower app offers for higher apps to fill: the client card's panels and timeline, the booking card's
panels, the absence list's columns, later the head's dashboard tiles.

The lower app declares a `Registry` in its `extensions.py`; a higher app adds to it in its `AppConfig.ready()`. The
page then shows whatever was contributed, in `order`, without importing the apps that contributed it.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Registry[T]:
    name: str
    _items: dict[str, tuple[int, T]] = field(default_factory=dict, repr=False)

    def register(self, key: str, item: T, *, order: int = 100) -> T:
        """Add `item` under `key` (registering a key again replaces it, so a repeated `ready()` adds nothing)."""
        self._items[key] = (order, item)
        return item

    def __iter__(self) -> Iterator[T]:
        return (item for _key, (_order, item) in sorted(self._items.items(), key=lambda kv: (kv[1][0], kv[0])))

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return [key for key, _ in sorted(self._items.items(), key=lambda kv: (kv[1][0], kv[0]))]
