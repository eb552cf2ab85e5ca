"""The production shape (Dockerfile, docker-compose.yml) agrees with the code it runs, and the production settings pass
Django's deployment checks. No Docker engine and no database needed: the compose file is parsed, commands are resolved
against the real modules, and the settings are loaded in subprocesses."""

import importlib
import os
import re
import secrets
import shlex
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from django.conf import settings
from django.urls import Resolver404, resolve
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS_DIR = ROOT / "clientdesk" / "settings"

APP_SERVICES = ("migrate", "web", "worker", "beat")
LONG_RUNNING = ("db", "redis", "web", "worker", "beat")
# Variables the environment of every app service must set (see the docstring of clientdesk/settings/base.py).
REQUIRED_ENV = {
    "DJANGO_SETTINGS_MODULE",
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "TIME_ZONE",
    "SECURE_SSL_REDIRECT",
}
# Read by Django or Celery themselves rather than by our settings files.
FRAMEWORK_ENV = {"DJANGO_SETTINGS_MODULE"}
# Variables that change what the settings check under `--deploy`; the subprocesses below must not inherit them.
SETTINGS_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "EMAIL_BACKEND",
    "SECRET_KEY",
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def command_of(service: dict) -> list[str]:
    command = service["command"]
    return shlex.split(command) if isinstance(command, str) else list(command)


def environment_of(service: dict) -> dict:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in environment)
    return environment


def env_names_read_by_settings() -> set[str]:
    """Every variable name the settings modules read: os.environ.get("X"), os.environ["X"], env_bool/env_list("X")."""
    pattern = re.compile(r"""(?:os\.environ\.get\(|os\.environ\[|env_bool\(|env_list\()\s*["']([A-Z][A-Z0-9_]*)["']""")
    return {name for path in SETTINGS_DIR.glob("*.py") for name in pattern.findall(path.read_text())}


def settings_subprocess_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_ENV}
    # The browser tests switch Django's async-safety check off for their session; production never does.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env["DJANGO_SETTINGS_MODULE"] = "clientdesk.settings.production"
    env.update(extra)
    return env


def run_manage(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**env, "CLIENTDESK_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- docker-compose.yml -------------------------------------------------------------------------------------------


def test_compose_has_the_long_running_services_and_a_one_shot_migrate(services):
    assert set(LONG_RUNNING) | {"migrate"} <= set(services)
    assert command_of(services["migrate"])[:3] == ["python", "manage.py", "migrate"]
    assert services["migrate"].get("restart") == "no"
    for name in LONG_RUNNING:
        assert services[name].get("restart") == "unless-stopped", name


def test_app_services_run_one_image_built_from_the_dockerfile(services):
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        assert services[name]["build"]["context"] == "."


def test_web_serves_the_real_wsgi_application_with_gunicorn(services):
    command = command_of(services["web"])
    assert command[0] == "gunicorn"
    target = next(arg for arg in command[1:] if ":" in arg and not arg.startswith("-"))
    assert target == "clientdesk.wsgi:application"
    module_name, attribute = target.split(":")
    application = getattr(importlib.import_module(module_name), attribute)
    assert callable(application)
    config = command[command.index("--config") + 1]
    assert (ROOT / config).is_file()


@pytest.mark.parametrize(("service", "subcommand"), [("worker", "worker"), ("beat", "beat")])
def test_celery_services_name_the_clientdesk_app(services, service, subcommand):
    command = command_of(services[service])
    assert command[0] == "celery"
    app_name = command[command.index("-A") + 1]
    assert subcommand in command
    # The same lookup `celery -A <name>` does.
    app = find_app(app_name)
    assert isinstance(app, Celery)
    assert app.main == "clientdesk"


def test_app_services_share_one_environment_that_the_settings_read(services):
    environments = [environment_of(services[name]) for name in APP_SERVICES]
    assert all(environment == environments[0] for environment in environments), "use the shared anchor"
    names = set(environments[0])
    assert names >= REQUIRED_ENV
    unread = names - env_names_read_by_settings() - FRAMEWORK_ENV
    assert not unread, f"settings never read {sorted(unread)}"


def test_app_environment_points_at_the_compose_services(services):
    environment = environment_of(services["web"])
    assert environment["DJANGO_SETTINGS_MODULE"] == "clientdesk.settings.production"
    assert (SETTINGS_DIR / "production.py").is_file()
    database = urlparse(environment["DATABASE_URL"])
    assert database.scheme == "postgres"
    assert (database.hostname, database.port) == ("db", 5432)
    assert environment["DATABASE_URL"] == "postgres://clientdesk:clientdesk@db:5432/clientdesk"
    db_env = services["db"]["environment"]
    assert (database.username, database.password, database.path.lstrip("/")) == (
        db_env["POSTGRES_USER"],
        db_env["POSTGRES_PASSWORD"],
        db_env["POSTGRES_DB"],
    )
    redis = urlparse(environment["REDIS_URL"])
    assert (redis.scheme, redis.hostname, redis.port) == ("redis", "redis", 6379)
    # Compose refuses to start without a SECRET_KEY and says why; a local run defaults to no HTTPS redirect.
    assert re.fullmatch(r"\$\{SECRET_KEY:\?.{20,}\}", environment["SECRET_KEY"])
    assert environment["SECURE_SSL_REDIRECT"] == "${SECURE_SSL_REDIRECT:-false}"


def test_web_worker_and_beat_wait_for_healthy_services_and_finished_migrations(services):
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert services["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_db_and_redis_are_persistent_and_healthchecked(compose, services):
    db, redis = services["db"], services["redis"]
    assert db["image"] == "postgres:16"
    assert "pg_isready" in db["healthcheck"]["test"]
    assert redis["image"] == "redis:7"
    assert command_of(redis)[command_of(redis).index("--appendonly") + 1] == "yes"
    assert "redis-cli ping" in " ".join(redis["healthcheck"]["test"])
    declared = set(compose["volumes"])
    for service, target in ((db, "/var/lib/postgresql/data"), (redis, "/data")):
        volumes = dict(volume.split(":")[:2][::-1] for volume in service["volumes"])
        assert volumes[target] in declared


def test_web_healthcheck_hits_a_url_the_project_serves(services):
    test = services["web"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert test[1:3] == ["python", "docker/healthcheck.py"]
    assert (ROOT / test[2]).is_file()
    url = urlparse(next(arg for arg in test if arg.startswith("http")))
    assert url.port == 8000
    try:
        match = resolve(url.path, urlconf="clientdesk.urls")
    except Resolver404:
        pytest.fail(f"{url.path} does not resolve in clientdesk.urls")
    assert match.url_name == "health"


def test_beat_keeps_its_schedule_file_on_a_volume(compose, services):
    beat = services["beat"]
    schedule = next(arg.split("=", 1)[1] for arg in command_of(beat) if arg.startswith("--schedule="))
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in beat["volumes"]}
    folder = str(Path(schedule).parent)
    assert folder in mounts
    assert mounts[folder] in set(compose["volumes"])
    # The image creates that folder for its non-root user, so a fresh named volume inherits the ownership.
    assert re.search(rf"mkdir -p {re.escape(folder)}\b", DOCKERFILE.read_text())


# --- Dockerfile ---------------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = (line.strip() for line in text.splitlines())
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def test_dockerfile_copies_the_front_end_libraries_where_staticfiles_dirs_looks():
    instructions = dockerfile_instructions()
    workdir = Path([arg for op, arg in instructions if op == "WORKDIR"][-1])
    copied = set()
    for op, arg in instructions:
        parts = arg.split()
        if op == "COPY" and parts[0].startswith("--from="):
            source, destination = Path(parts[-2]), Path(parts[-1])
            relative = destination.relative_to(workdir) if destination.is_absolute() else destination
            # The library's own dist folder lands at the same relative path.
            assert source.parts[-3:] == relative.parts[-3:]
            copied.add(relative)
    expected = set()
    for entry in settings.STATICFILES_DIRS:
        path = Path(entry[1] if isinstance(entry, tuple) else entry)
        if "node_modules" in path.parts:
            expected.add(path.relative_to(settings.BASE_DIR))
    assert {Path("node_modules/bootstrap/dist"), Path("node_modules/htmx.org/dist")} <= expected
    assert copied == expected


def test_dockerfile_builds_from_slim_images_and_runs_as_a_non_root_user():
    instructions = dockerfile_instructions()
    froms = [arg.split()[0] for op, arg in instructions if op == "FROM"]
    assert froms == ["node:20-slim", "python:3.13-slim"]
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "npm ci" in runs
    assert "pip install --require-hashes -r requirements/app.txt" in runs
    assert "collectstatic --noinput" in runs
    assert "DJANGO_SETTINGS_MODULE=clientdesk.settings.production" in runs
    users = [arg for op, arg in instructions if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    # Nothing is fetched by URL (no CDN): libraries come from the package registries through pip and npm.
    assert not re.search(r"https?://", DOCKERFILE.read_text())


# --- Production settings --------------------------------------------------------------------------------------------


def test_production_settings_pass_the_deployment_checks(tmp_path):
    env = settings_subprocess_env(SECRET_KEY=secrets.token_urlsafe(60)[:60])
    result = run_manage(["check", "--deploy", "--fail-level", "WARNING"], env, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize(
    "secret_key",
    [None, "", "x" * 49, "dev-only-insecure-key-do-not-use-in-production-with-padding-to-length"],
    ids=["missing", "empty", "short", "dev-key"],
)
def test_production_settings_refuse_a_missing_or_weak_secret_key(tmp_path, secret_key):
    env = settings_subprocess_env() if secret_key is None else settings_subprocess_env(SECRET_KEY=secret_key)
    result = run_manage(["check"], env, tmp_path)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


# --- the locked install ----------------------------------------------------------------------------------------


def locked(path: str) -> dict[str, str]:
    """name -> pinned version of a lock file written by `make lock`, each pin followed by its hashes."""
    text = (ROOT / path).read_text()
    pins = dict(re.findall(r"^([a-z0-9][a-z0-9._-]*)==([^\s;]+)", text, flags=re.MULTILINE))
    assert pins, f"{path} pins nothing"
    blocks = re.split(r"\n(?=[a-z0-9])", text.split("\n", 3)[-1])
    assert all("--hash=sha256:" in block for block in blocks if re.match(r"[a-z0-9]", block)), (
        f"{path}: a pin without hashes"
    )
    return {canonicalize_name(name): version for name, version in pins.items()}


def dependency_group(name: str) -> list[Requirement]:
    import tomllib

    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    requirements = []
    for entry in groups[name]:
        if isinstance(entry, dict):
            requirements += dependency_group(entry["include-group"])
        else:
            requirements.append(Requirement(entry))
    return requirements


@pytest.mark.parametrize(("group", "path"), [("app", "requirements/app.txt"), ("dev", "requirements/dev.txt")])
def test_the_lock_pins_every_dependency_within_what_pyproject_allows(group, path):
    """pyproject.toml says what is allowed, the lock says what is installed: edit one, `make lock` the other."""
    pins = locked(path)
    for requirement in dependency_group(group):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in {path}: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{path} pins {name}=={pins[name]} outside {requirement}: run `make lock`"
        )


def test_the_test_tools_are_installed_on_the_same_pins_as_the_app():
    app, dev = locked("requirements/app.txt"), locked("requirements/dev.txt")
    assert {name: dev.get(name) for name in app} == app


def test_make_ci_and_the_dockerfile_install_the_lock_and_nothing_else():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes" in makefile
    assert "-r requirements/app.txt" in makefile and "-r requirements/dev.txt" in makefile
    assert "--group" not in makefile.split("lock:")[0], "an install from pyproject.toml would resolve anew"
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY requirements/app.txt" in dockerfile and "pyproject.toml" not in dockerfile
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_the_installed_versions_are_the_locked_ones():
    """This environment was installed from the lock (a stray `pip install -U` shows here)."""
    from importlib.metadata import distributions

    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in distributions()}
    pins = locked("requirements/dev.txt")
    wrong = {
        name: (installed[name], version) for name, version in pins.items() if installed.get(name, version) != version
    }
    assert wrong == {}


def test_gunicorn_is_held_below_27_whose_control_socket_the_container_user_cannot_create():
    assert Version(locked("requirements/app.txt")["gunicorn"]) < Version("27")
