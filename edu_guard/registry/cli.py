"""Registry commands: ``import`` and ``demo`` (filled in by the importer work)."""

import click

from edu_guard.cli_util import requires_init


@click.command("import")
@click.argument("kind")
@click.argument("path")
@requires_init
def import_command(kind, path):
    """导入文件。"""
    raise click.ClickException("not built yet")


@click.command("demo")
@requires_init
def demo_command():
    """载入示例县数据。"""
    raise click.ClickException("not built yet")
