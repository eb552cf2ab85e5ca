"""What higher apps add to the accounts' pages, without this app importing them (see `clientdesk.registry`).

- `absence_columns`: columns of the absence list, each a heading and an annotation over the absence's `user` (the
  calls app's "open tasks", which the substitute takes over).
- `start_notices`: what a person is told when their day starts (signing in lands on the home page, which sends them
  on to their start page): functions `(user) -> (level, text) | None`, a `django.contrib.messages` level and the
  text (the reception's printed materials below minimum or due for review).
"""

from collections.abc import Callable
from dataclasses import dataclass

from clientdesk.registry import Registry


@dataclass(frozen=True)
class AbsenceColumn:
    heading: str
    annotation: Callable[[], object]


absence_columns: Registry[AbsenceColumn] = Registry("absence list columns")

StartNotice = Callable[..., tuple[int, str] | None]
start_notices: Registry[StartNotice] = Registry("start notices")
