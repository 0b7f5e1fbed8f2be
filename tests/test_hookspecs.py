"""Every hook is documented and exercised by a test (docs/architecture.md)."""

import inspect
from pathlib import Path

from edu_guard import hookspecs

TESTS = Path(__file__).parent


def hook_names():
    return [n for n, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "edu_guard_spec")]


def test_every_hook_is_documented():
    for name in hook_names():
        spec = getattr(hookspecs, name)
        doc = inspect.getdoc(spec) or ""
        assert ":return:" in doc, f"hook {name} does not document what it returns"
        for param in inspect.signature(spec).parameters:
            assert f":param {param}:" in doc, f"hook {name} does not document its parameter {param}"


def test_every_hook_has_a_test():
    text = "\n".join(p.read_text(encoding="utf-8") for p in TESTS.rglob("test_*.py") if p.name != "test_hookspecs.py")
    untested = [n for n in hook_names() if n not in text]
    assert not untested, f"hooks without a test: {untested}"
