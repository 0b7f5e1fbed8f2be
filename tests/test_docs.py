"""Every code block of docs/plugins.md is run here (the pattern of datasette's
tests/test_docs.py), so the guide cannot drift from the code.

Each block follows a ``<!-- example: NAME -->`` line. ``<plugin>/plugin.py`` and the
files beside it (templates) become the package ``edu_guard_<plugin>`` in a temporary
folder, and the test functions of ``<plugin>/test_plugin.py`` are run with the fixtures
they ask for, as pytest would run them in the plugin's own folder. Shell lines are
parsed by the commands they name; the configuration is executed and checked against the
settings and the example's schema.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import shlex
import sys
from pathlib import Path

import click
import pytest

DOC = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"
EXAMPLE = re.compile(r"<!-- example: (?P<name>\S+) -->\n```(?P<lang>\w+)\n(?P<code>.*?)\n```\n", re.S)


def _examples() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for m in EXAMPLE.finditer(DOC.read_text(encoding="utf-8")):
        assert m["name"] not in found, f"two examples named {m['name']}"
        found[m["name"]] = (m["lang"], m["code"])
    return found


EXAMPLES = _examples()
PLUGINS = sorted({n.split("/")[0] for n in EXAMPLES if n.endswith("/plugin.py")})


def test_every_code_block_of_the_guide_is_an_example():
    fences = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("```")]
    assert len(fences) == 2 * len(EXAMPLES), "a code block without an <!-- example: NAME --> line before it"
    assert PLUGINS == ["county_bonus", "left_behind", "notice", "report", "wrapper"]
    for name in PLUGINS:
        assert f"{name}/test_plugin.py" in EXAMPLES, f"the {name} example has no test"


def _write_package(root: Path, name: str) -> Path:
    package = root / f"edu_guard_{name}"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for key, (_, code) in EXAMPLES.items():
        head, _, rest = key.partition("/")
        if head == name and rest and rest != "test_plugin.py":
            path = package / rest
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(code + "\n", encoding="utf-8")
    return package


def _load(path: Path, module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_packages(tmp_path, monkeypatch):
    """Write example plugins as packages importable for the test, forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written = []

    def write(name: str) -> Path:
        written.append(name)
        return _write_package(tmp_path, name)

    yield write
    for name in written:
        for module in [m for m in sys.modules if m == f"edu_guard_{name}" or m.startswith(f"edu_guard_{name}.")]:
            del sys.modules[module]


@pytest.mark.parametrize("name", PLUGINS)
def test_the_guide_s_plugin_passes_the_guide_s_test(name, example_packages, tmp_path, request):
    example_packages(name)
    test_file = tmp_path / f"test_{name}_example.py"
    test_file.write_text(EXAMPLES[f"{name}/test_plugin.py"][1] + "\n", encoding="utf-8")
    module = _load(test_file, f"docs_example_test_{name}")
    tests = [f for n, f in vars(module).items() if n.startswith("test_") and inspect.isfunction(f)]
    assert tests
    for test in tests:
        test(**{p: request.getfixturevalue(p) for p in inspect.signature(test).parameters})


def test_the_guide_s_instance_configuration(example_packages):
    from edu_guard import config

    settings: dict = {}
    exec(EXAMPLES["instance/config.py"][1], settings)  # noqa: S102 - the guide's own text
    settings = {k: v for k, v in settings.items() if k.isupper()}
    assert all(hasattr(config, key) for key in settings), "the guide sets a setting that does not exist"
    # "the built-in default enables the three first-party plugins, so list them too"
    assert settings["EDU_GUARD_PLUGINS"] == [*config.EDU_GUARD_PLUGINS, "county_bonus"]
    example_packages("county_bonus")
    from edu_guard_county_bonus import plugin

    loaded = plugin.Settings().load(settings["EDU_GUARD_PLUGIN_SETTINGS"]["county_bonus"])
    assert str(loaded["per_term"]) == "300"


def _command(args: list[str]):
    """Parse ``edu-guard ARGS`` down to the command without running it (its options are
    checked: an unknown or missing one is an error); return the command."""
    from edu_guard.cli import cli

    command, ctx, rest = cli, None, list(args)
    while isinstance(command, click.Group):  # the guide gives no group options
        name, rest = rest[0], rest[1:]
        ctx = click.Context(command, info_name=name, parent=ctx)
        command = command.get_command(ctx, name)
        assert command is not None, f"no command {name!r} in {args}"
    command.make_context(name, rest, parent=ctx)
    return command


def _shell_lines(name: str) -> list[list[str]]:
    lines = []
    for line in EXAMPLES[name][1].splitlines():
        words = shlex.split(line, comments=True)
        if words:
            lines.append(words)
    return lines


def test_the_guide_s_commands_exist_with_their_options(tmp_path):
    from click.testing import CliRunner

    from edu_guard.plugin_cli import plugin_new

    (new,) = _shell_lines("skeleton.sh")
    assert new[:3] == ["edu-guard", "plugin", "new"]
    assert _command(new[1:]) is plugin_new
    result = CliRunner().invoke(plugin_new, [*new[3:], "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    # the tree the guide shows is what the command writes
    tree = EXAMPLES["skeleton.tree"][1].splitlines()
    root = tmp_path / tree[0].strip().rstrip("/").split("/")[-1]
    shown = {line.split()[0] for line in tree[1:]}
    written = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    assert shown == written
    assert 'county_bonus = "edu_guard_county_bonus.plugin"' in (root / "pyproject.toml").read_text(encoding="utf-8")

    for words in _shell_lines("install.sh") + _shell_lines("propose.sh"):
        if words[0] == "edu-guard":
            _command(words[1:])
        else:  # pytest and pip on the folder the skeleton wrote
            assert words in (["pytest", "plugins/county_bonus"], ["pip", "install", "-e", "plugins/county_bonus"])
