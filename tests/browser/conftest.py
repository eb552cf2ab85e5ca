"""Headless Chromium (Debian's, never a downloaded one) driven through Playwright's sync API.

- `browser`: one Chromium for the whole session;
- `page`: a fresh context (cookies, storage, locale) and page per test; its JavaScript errors land in `js_errors`;
- on a failed test a full-page screenshot is saved under test-artifacts/ (git-ignored).

The tests use pytest-django's `live_server` (it serves static files) and transactional data: the server thread
sees only committed rows.
"""

import os
import re
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = "test-artifacts"
TIMEOUT_MS = 10_000  # a step that takes longer on a local live server is a bug, not slowness


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so the `page` fixture knows at teardown whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an asyncio event loop in this thread (it switches to it with greenlets on every
    # call), and the loop stays registered as "running" from start() to stop(). Django's async-safety check sees
    # that loop and refuses every ORM call from this thread with SynchronousOnlyOperation, although the test code
    # is plain blocking code that never runs inside the loop. So the check is switched off while the browser
    # lives, that is, for the rest of the session (the loop stays registered for any test that runs after this
    # one), and restored afterwards. It is set here rather than at import so a run that merely collects this
    # folder (`-m "not browser"`) keeps the check.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_api.sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def browser_locale() -> str:
    """The browser's own language (its Accept-Language); a test may parametrize it."""
    return "en-US"


@pytest.fixture
def js_errors() -> list[str]:
    """Uncaught exceptions and console errors of the test's page (a 404 for a script shows up here too)."""
    return []


def _console_error(message, errors: list[str]) -> None:
    if message.type != "error":
        return
    url = message.location.get("url", "")
    errors.append(f"console: {message.text} ({url})")


@pytest.fixture
def page(request, browser, browser_locale, js_errors):
    context = browser.new_context(locale=browser_locale, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("pageerror", lambda exc: js_errors.append(f"uncaught: {exc}"))
    page.on("console", lambda msg: _console_error(msg, js_errors))
    yield page
    reports = [getattr(request.node, f"report_{when}", None) for when in ("setup", "call")]
    if any(report is not None and report.failed for report in reports):
        directory = request.config.rootpath / ARTIFACTS
        directory.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
        except Exception as exc:  # a failed screenshot must never hide the test's own failure
            print(f"screenshot failed: {exc}")
    context.close()
