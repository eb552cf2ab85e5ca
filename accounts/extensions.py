"""What higher apps add to the accounts' pages, without this app importing them (see `clientdesk.registry`).

- `absence_columns`: columns of the absence list, each a heading and an annotation over the absence's `user` (the
  calls app's "open tasks", which the substitute takes over).
"""

from collections.abc import Callable
from dataclasses import dataclass

from clientdesk.registry import Registry


@dataclass(frozen=True)
class AbsenceColumn:
    heading: str
    annotation: Callable[[], object]


absence_columns: Registry[AbsenceColumn] = Registry("absence list columns")
