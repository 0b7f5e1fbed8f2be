"""The school list importer (学校名单)."""

from __future__ import annotations

from collections import defaultdict

from edu_guard.i18n import N_
from edu_guard.registry import schemas
from edu_guard.registry.importers.base import Importer, Places
from edu_guard.registry.importers.bulk import bulk_insert, bulk_update, fetch_in
from edu_guard.registry.models import School


class SchoolsImporter(Importer):
    """The bureau's school list → townships and schools, upserted by 学校标识码."""

    kind = "schools"
    label = N_("学校名单")
    schema_class = schemas.SchoolRowSchema
    required_columns = (("school_code",), ("school_name",), ("stage",), ("township",))
    unique_fields = frozenset({"school_code", "school_name"})

    def apply(self, rows):
        rows = self.first_occurrences(rows, lambda d: d["school_code"], "school_code")
        places: dict[str, Places] = {}
        towns: dict[str, dict[str, int]] = {}
        by_county: dict[str, set[str]] = defaultdict(set)
        for row in rows:
            by_county[row.data.get("county_code") or self.county_code].add(row.data["township"])
        for county, names in by_county.items():
            places[county] = Places(county)
            towns[county] = places[county].township_ids(names)
        columns = [School.id, School.code, School.name, School.stage, School.township_id, School.county_code]
        existing = {r.code: r for r in fetch_in(columns, School.code, [r.data["school_code"] for r in rows])}
        new, changed = [], []
        for row in rows:
            d = row.data
            county = d.get("county_code") or self.county_code
            values = {
                "code": d["school_code"],
                "name": d["school_name"],
                "stage": d["stage"],
                "township_id": towns[county][d["township"]],
                "county_code": county,
            }
            old = existing.get(d["school_code"])
            if old is None:
                new.append(values)
            elif any(getattr(old, k) != v for k, v in values.items()):
                changed.append({"id": old.id, **values})
            else:
                self.outcome.unchanged += 1
        bulk_insert(School, new)
        bulk_update(School, changed)
        self.outcome.created += len(new)
        self.outcome.updated += len(changed)

