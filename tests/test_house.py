"""The house rules, read from the code itself (README, "Architecture"):

- the project's apps are ordered (their order in INSTALLED_APPS); a module imports only its own app and the apps
  before it, so the import graph between apps has no cycle;
- no module imports a private name (leading underscore) or the views of another app;
- no import sits inside a function to dodge a cycle; the one place an app imports at run time is its
  `AppConfig.ready()`, where it subscribes to events and fills the registries of the apps below it.

A lower app that must let a higher one react publishes a domain event (`clientdesk.events`); a page of a lower app
that shows what a higher one knows offers a registry (`<app>/extensions.py`).
"""

import ast
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def project_apps(root: Path = ROOT) -> list[str]:
    """The project's own apps, in the order INSTALLED_APPS lists them."""
    return [app for app in settings.INSTALLED_APPS if "." not in app and (root / app / "apps.py").exists()]


@dataclass(frozen=True)
class Import:
    module: str  # the module imported from
    names: tuple[str, ...]  # the names taken from it (empty for `import x`)
    line: int
    in_function: str | None  # the enclosing function's name, if any


def _imports(tree: ast.Module, module: str, is_package: bool) -> list[Import]:
    found: list[Import] = []
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, child.name)
                continue
            if isinstance(child, ast.Import):
                found.extend(Import(a.name, (), child.lineno, function) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                source = child.module or ""
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                    source = ".".join([*base, source] if source else base)
                names = tuple(a.name for a in child.names)
                found.append(Import(source, names, child.lineno, function))
            visit(child, function)

    visit(tree, None)
    return found


def violations(root: Path, order: list[str]) -> list[str]:
    """Every breach of the house rules under `root`, for apps in `order` (lowest first)."""
    rank = {app: i for i, app in enumerate(order)}
    problems: list[str] = []
    for app in order:
        for path in sorted((root / app).rglob("*.py")):
            relative = path.relative_to(root)
            parts = relative.with_suffix("").parts
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
            where = f"{relative}"
            for imp in _imports(ast.parse(path.read_text(), str(path)), module, is_package):
                target = imp.module.split(".")[0]
                if target not in rank:
                    continue
                candidates = [imp.module, *(f"{imp.module}.{name}" for name in imp.names)]
                if imp.in_function and not (relative.name == "apps.py" and imp.in_function == "ready"):
                    problems.append(f"{where}:{imp.line}: import of {imp.module} inside {imp.in_function}()")
                if target == app:
                    continue
                if rank[target] > rank[app]:
                    problems.append(f"{where}:{imp.line}: {app} imports {imp.module}, an app above it")
                private = [n for n in imp.names if n.startswith("_")]
                private += [p for p in imp.module.split(".")[1:] if p.startswith("_") and not p.startswith("__")]
                if private:
                    problems.append(f"{where}:{imp.line}: private name {', '.join(private)} of {target}")
                view_paths = [c for c in candidates if c.split(".")[1:2] == ["views"]]
                if view_paths and target != CORE:  # the core's views are the base classes every app builds on
                    problems.append(f"{where}:{imp.line}: {app} imports the views of {target} ({view_paths[0]})")
    return problems


def test_the_house_keeps_its_rules():
    order = project_apps()
    assert order[:2] == ["clientdesk", "accounts"], order
    assert violations(ROOT, order) == []


def test_every_app_has_its_rooms_named_one_way():
    """Rooms are single files or packages of the same name, never `views_x.py`/`api_x.py` beside them."""
    for app in project_apps():
        if app == CORE:
            continue  # the core holds the shared bases (`views.py`, `api.py`), not an app's rooms
        names = {p.stem for p in (ROOT / app).iterdir()}
        stray = sorted(n for n in names if any(n.startswith(f"{room}_") for room in ROOMS))
        assert not stray, f"{app}: {stray}: make a package of the room instead"
        assert not ((ROOT / app / "api.py").exists()), f"{app}: the API is a package, api/ with urls.py"
        if (ROOT / app / "api").exists():
            assert (ROOT / app / "api" / "urls.py").exists(), f"{app}/api has no urls.py"


CORE = "clientdesk"
ROOMS = ("models", "services", "selectors", "views", "forms", "filters", "api", "tasks", "events", "extensions")


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_house_test_catches_each_kind_of_breach(tmp_path):
    # given a tree with one sound import and one of each wrong kind
    root = _tree(
        tmp_path,
        {
            "low/__init__.py": "",
            "low/apps.py": "def ready():\n    from high import extensions\n",
            "low/services.py": "from high.models import Thing\n",
            "low/selectors.py": "def rows():\n    from high.models import Thing\n    return Thing\n",
            "high/__init__.py": "",
            "high/apps.py": "",
            "high/models.py": "from low.services import _helper\n",
            "high/pages.py": "from low.views import page\nfrom low.services import fine\nfrom . import models\n",
        },
    )
    # when
    problems = violations(root, ["low", "high"])
    # then each breach is named once, and the sound imports are not
    assert any("low/services.py:1: low imports high.models, an app above it" in p for p in problems)
    assert any("low/selectors.py:2: import of high.models inside rows()" in p for p in problems)
    assert any("high/models.py:1: private name _helper of low" in p for p in problems)
    assert any("high/pages.py:1: high imports the views of low" in p for p in problems)
    assert not any("high/pages.py:2" in p or "high/pages.py:3" in p for p in problems)
    # ready() may import upwards: that is where an app subscribes and registers
    assert not any("low/apps.py" in p and "inside" in p for p in problems)
    assert len([p for p in problems if "low/apps.py" in p]) == 1  # but still not against the order


def test_the_app_graph_has_no_cycle():
    """Shown rather than implied: the graph of which app imports which, and a topological walk of it."""
    order = project_apps()
    edges: dict[str, set[str]] = {app: set() for app in order}
    for app in order:
        for path in (ROOT / app).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            module = ".".join(parts[:-1] if is_package else parts)
            for imp in _imports(ast.parse(path.read_text()), module, is_package):
                target = imp.module.split(".")[0]
                if target in edges and target != app:
                    edges[app].add(target)
    seen: list[str] = []
    while len(seen) < len(order):
        free = [a for a in order if a not in seen and edges[a] <= set(seen)]
        assert free, f"cycle among {sorted(set(order) - set(seen))}: {edges}"
        seen.extend(free)
