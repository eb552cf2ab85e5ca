from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo department `make run` loads (users, clients, a workshop, two weeks of work). It sits above every
    other app, because it drives all of their services; nothing imports it."""

    name = "demo"
    verbose_name = _("Demo data")
