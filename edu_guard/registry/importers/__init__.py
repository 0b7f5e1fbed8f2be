"""The importers (导入), one module per kind of file: which columns each reads, the
schema that loads a row, and how loaded rows become registry rows (upsert by ID
number). :mod:`.base` holds what they share, :mod:`.bulk` the bulk writers.
"""

from __future__ import annotations

from edu_guard.registry.importers.base import Importer, LoadedRow, Outcome, Places, jsonable
from edu_guard.registry.importers.bulk import CHUNK, bulk_insert, bulk_update, fetch_in
from edu_guard.registry.importers.disabled import DisabledImporter
from edu_guard.registry.importers.families import FamiliesImporter
from edu_guard.registry.importers.roster import RosterImporter, child_snapshot
from edu_guard.registry.importers.schools import SchoolsImporter
from edu_guard.registry.importers.status_changes import STATUS_AFTER_CHANGE, StatusChangesImporter

__all__ = [
    "CHUNK", "IMPORTERS", "STATUS_AFTER_CHANGE", "DisabledImporter", "FamiliesImporter", "Importer", "LoadedRow",
    "Outcome", "Places", "RosterImporter", "SchoolsImporter", "StatusChangesImporter", "bulk_insert", "bulk_update",
    "child_snapshot", "fetch_in", "importers", "jsonable",
]

#: The importers by KIND.
IMPORTERS: dict[str, type[Importer]] = {
    cls.kind: cls
    for cls in (SchoolsImporter, RosterImporter, StatusChangesImporter, FamiliesImporter, DisabledImporter)
}


def importers() -> dict[str, type[Importer]]:
    """Return the built-in importers and, inside an app, its plugins' ``import_formats``."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return IMPORTERS
    contrib = current_app.extensions.get("edu_guard.contributions")
    if contrib is None or not contrib.import_formats:
        return IMPORTERS
    return {**IMPORTERS, **contrib.import_formats}
