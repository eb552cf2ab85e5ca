"""`make run`: the embedded default with debugging on."""

from clientdesk.settings.base import *  # noqa: F403
from clientdesk.settings.base import env_bool

DEBUG = env_bool("DEBUG", True)
