import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttles():
    """Throttle counts live in the cache (one per test process): each test starts from none."""
    cache.clear()
    yield
    cache.clear()
