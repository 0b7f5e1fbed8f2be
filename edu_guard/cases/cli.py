"""Case commands: ``cases list`` and ``cases show``."""

import click

cases_group = click.Group("cases", help="控辍保学个案")
