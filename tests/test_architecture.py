"""The house's shape (docs/architecture.md): the import graph of ``edu_guard/`` has no
circle, no module imports an ``edu_guard`` module inside a function except the few
listed below, importing the hook specifications does not build the app, and a lower
layer learns what a feature knows through a hook (``counted_as_enrolled``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import date
from pathlib import Path

import grimp
import pytest

from edu_guard.hookspecs import hookimpl
from edu_guard.registry.enrolled import CountedEnrolled

PACKAGE = Path(__file__).resolve().parent.parent / "edu_guard"


def _cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_the_import_graph_has_no_circle():
    graph = grimp.build_graph("edu_guard", cache_dir=None)  # every import, in functions too
    assert len(graph.modules) > 80
    assert _cycles(graph) == []


def test_a_circle_would_be_found():
    """The check itself: a two-module circle in a throw-away graph is reported."""
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.x")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y"]]


#: The only imports of ``edu_guard`` modules made inside a function, each with its reason:
#: they load a heavy library that most commands and pages never need, so start-up does
#: not pay for it. (WeasyPrint and openpyxl are imported lazily inside ``letters.render``
#: and ``excel`` themselves, so the modules that use them import those at the top.)
LAZY_ALLOWED = {
    ("edu_guard.comparisons.kinds", "edu_guard.comparisons.household"): "polars, for the household comparison only",
}


def _function_level_imports() -> set[tuple[str, str]]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.module or "").startswith("edu_guard"):
                    found.add((module, inner.module))
                elif isinstance(inner, ast.Import):
                    found.update((module, a.name) for a in inner.names if a.name.startswith("edu_guard"))
    return found


def test_no_import_of_edu_guard_inside_a_function_but_the_listed_ones():
    found = _function_level_imports()
    unlisted = sorted(found - set(LAZY_ALLOWED))
    assert unlisted == [], "import these at the top of the module (or list the heavy library they load)"
    stale = sorted(set(LAZY_ALLOWED) - found)
    assert stale == [], "no longer imported inside a function: remove these from LAZY_ALLOWED"


def test_the_heavy_libraries_are_not_loaded_by_importing_the_app():
    """What the allow-list and the lazy imports inside ``letters`` and ``excel`` buy:
    building the command and the app loads neither WeasyPrint, fontTools, openpyxl nor
    polars."""
    code = ("import sys, edu_guard.cli; "
            "print(sorted(m for m in ('weasyprint', 'openpyxl', 'polars') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == []


def test_importing_the_hook_specifications_does_not_build_the_app():
    code = "import sys, edu_guard.hookspecs; print(sorted(m for m in sys.modules if m.startswith('edu_guard')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert eval(out) == ["edu_guard", "edu_guard.hookspecs", "edu_guard.messages"]


class SpecialSchool:
    """A county's plugin: children taught at the county special school's outreach
    count as enrolled, though the roll the registry imported does not show it."""

    def __init__(self, child_id: int, school_id: int):
        self.child_id, self.school_id = child_id, school_id

    @hookimpl
    def counted_as_enrolled(self, on, child_id):
        if on < date(2021, 3, 1) or child_id not in (None, self.child_id):
            return []
        return [CountedEnrolled(child_id=self.child_id, school_id=self.school_id, label="特教巡回",
                                why="自 2021-03-01 起由特殊教育学校巡回指导")]


def test_a_feature_tells_the_registry_and_the_cases_who_counts_as_enrolled(app, make_child, make_user, login,
                                                                            client, today_is):
    from edu_guard.cases import services as case_services
    from edu_guard.hooks import manager

    child = make_child()
    manager(app).register(SpecialSchool(child.id, child.current_enrollment.school_id), name="special_school")
    with pytest.raises(case_services.CaseError, match="岩温 自 2021-03-01 起由特殊教育学校巡回指导，计为在读"):
        case_services.open_case(child, reason="其他", opened_on=date(2021, 3, 2))
    case = case_services.open_case(child, reason="其他", opened_on=date(2021, 2, 26))  # before the outreach began
    assert case.child_id == child.id
    login(make_user("clerk"))
    today_is(date(2021, 2, 28))
    assert "特教巡回" not in client.get("/children").get_data(as_text=True)
    today_is(date(2021, 3, 2))
    assert "特教巡回" in client.get("/children").get_data(as_text=True)
