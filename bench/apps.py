from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenchConfig(AppConfig):
    """The benchmark: loaders of the large data set (`seed_large*`) and the timed cases (`python -m bench`). Top of
    the app order: it reaches into every app's tables; nothing imports it."""

    name = "bench"
    verbose_name = _("Benchmark")
