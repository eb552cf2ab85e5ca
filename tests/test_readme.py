"""The README is what a newcomer reads instead of the code: every setting the code reads from the environment is in
its configuration table, and every page it links to is in the repository."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
# Read by the tools rather than the app: the interpreter search and the Makefile's listening address.
SCRIPTS = ["scripts/find-python", "Makefile"]


def environment_names() -> set[str]:
    sources = [*ROOT.glob("clientdesk/**/*.py"), *ROOT.glob("docker/*.py"), *ROOT.glob("*/apps.py")]
    pattern = re.compile(r"""os\.environ(?:\.get|\.setdefault)?[(\[]\s*["']([A-Z_][A-Z0-9_]*)["']""")
    names = {name for path in sources for name in pattern.findall(path.read_text())}
    # env_bool("NAME", ...) and env_list("NAME", ...) in the settings
    helper = re.compile(r"""env_(?:bool|list)\(\s*["']([A-Z_][A-Z0-9_]*)["']""")
    names |= {name for path in ROOT.glob("clientdesk/settings/*.py") for name in helper.findall(path.read_text())}
    return names


def test_every_environment_setting_is_in_the_readme():
    names = environment_names()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= names  # the scan itself works
    missing = sorted(name for name in names if f"`{name}`" not in README)
    assert not missing, f"add these to the README's configuration table: {missing}"


def test_the_readme_links_only_to_pages_in_the_repository():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if "://" in target:
            continue
        assert not target.startswith(".."), f"{target}: a clone does not have what lies outside it"
        assert (ROOT / target).exists(), f"{target} is linked from the README but not in the repository"


def test_the_domain_page_is_the_projects_own():
    assert "docs/domain.md" in README
    assert (ROOT / "docs" / "domain.md").read_text().startswith("# ")
