"""The plugins' one surface: ``edu_guard.toolkit``. import-linter (``make test`` runs
``lint-imports``) checks the plugin packages and tests/plugins/; this test checks that
no first-party plugin package is left out of that contract, and the plugins' own tests
(not packages, so import-linter cannot see them) by reading their imports."""

import ast
import tomllib
from pathlib import Path

import edu_guard.toolkit

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {"edu_guard.toolkit", "edu_guard.testing"}


def _contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return config, next(c for c in config["contracts"] if c["id"] == "plugins-use-the-toolkit")


def _edu_guard_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else [])
        found |= {n for n in names if n == "edu_guard" or n.startswith("edu_guard.")}
    return found


def test_every_first_party_plugin_package_is_under_the_contract():
    config, contract = _contract()
    packages = sorted(p.parent.name for p in ROOT.glob("plugins/*/edu_guard_*/__init__.py"))
    assert len(packages) == 3
    for package in packages:
        assert package in config["root_packages"] and package in contract["source_modules"], package
        assert f"{package}.** -> edu_guard.toolkit" in contract["ignore_imports"]
    assert contract["forbidden_modules"] == ["edu_guard"]


def test_the_plugins_own_tests_import_only_the_toolkit_and_the_fixtures():
    files = [p for p in ROOT.glob("plugins/*/tests/*.py")]
    assert len(files) >= 3
    for path in files:
        assert _edu_guard_imports(path) <= ALLOWED, path


def test_the_toolkit_exports_what_it_lists():
    missing = [n for n in edu_guard.toolkit.__all__ if not hasattr(edu_guard.toolkit, n)]
    assert not missing
    for name in ("LetterKind", "issue_letter", "Importer", "Comparison", "Category", "Outcome", "db", "Child",
                 "hookimpl", "run_comparison"):
        assert name in edu_guard.toolkit.__all__
