"""The clock (时钟): the one "today" of the whole product, in the core layer.

Every rule that counts days (deadlines, "not in the future" guards, form defaults) asks
this module, so tests can set the day in one place and a later county time zone setting
changes one function.
"""

from __future__ import annotations

from datetime import date


def today() -> date:
    """Return today's date."""
    return date.today()
