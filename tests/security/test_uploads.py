"""No upload can exhaust the server (issue 14, item 1): every table file is checked
by edu_guard.uploads before a reader sees it, and the files of the attack — a lone
far cell, a zip bomb, millions of empty styled cells — are refused with a Chinese
message while the process stays small; a real county's largest roster still passes."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from edu_guard import config
from edu_guard.registry import readers
from edu_guard.registry.normalize import COLUMN_ALIASES
from edu_guard.uploads import Limits, UploadRefused, check_upload, column_letters, column_number

from .conftest import SHEET_PART, far_cell_xlsx, roster_sheet, sheet_xml, text_cell, xlsx_from_sheet

DEFAULTS = Limits.from_config({k: getattr(config, k) for k in dir(config) if k.startswith("EDU_GUARD_UPLOAD_")})
#: Peak RSS a refused upload may cost a fresh interpreter that imported the readers
#: (Python, Flask, polars and calamine alone take about 100 MB).
RSS_BOUND_MB = 300


def styled_cells_xlsx(cells_wanted: int, columns: int = 250) -> bytes:
    """Empty cells that carry only a style (``<c r=".." s="1"/>``), row after row."""
    letters = [column_letters(c) for c in range(1, columns + 1)]
    template = "".join(f'<c r="{col}#" s="1"/>' for col in letters)
    rows = -(-cells_wanted // columns)
    body = "".join(f'<row r="{r}">' + template.replace("#", str(r)) + "</row>" for r in range(1, rows + 1))
    return xlsx_from_sheet(sheet_xml(body), level=1)


def bomb_xlsx(size: int) -> bytes:
    """A sheet part of ``size`` bytes of blanks: a few hundred kilobytes zipped."""
    head = sheet_xml(f'<row r="1">{text_cell("A1", "姓名")}</row>')
    return xlsx_from_sheet(head[:-len(b"</worksheet>")] + b" " * size + b"</worksheet>", level=9)


def lying_bomb_xlsx() -> bytes:
    """A bomb whose central directory declares its sheet part small (1 KB): the
    size and ratio checks see nothing wrong; inflating must stop at the declared size."""
    data = bytearray(bomb_xlsx(200 * 1024 * 1024))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(SHEET_PART)
    # central directory entry: uncompressed size at offset 24 of the entry
    at = data.rfind(b"PK\x01\x02" + bytes(data[data.rfind(b"PK\x01\x02"):][4:6]))
    at = bytes(data).find(b"PK\x01\x02", bytes(data).find(b"PK\x01\x02"))
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == SHEET_PART.encode():
            struct.pack_into("<I", data, at + 24, 1024)
        at = bytes(data).find(b"PK\x01\x02", at + 4)
    struct.pack_into("<I", data, info.header_offset + 22, 1024)  # and the local header
    return bytes(data)


def test_column_letters_round_trip():
    assert column_number("A") == 1 and column_number("Z") == 26 and column_number("AA") == 27
    assert column_number("XFD") == 16384 and column_letters(16384) == "XFD" and column_letters(703) == "AAA"


def test_a_big_countys_roster_passes():
    """100,000 pupils × 25 columns (2.5 million cells) fits the default limits."""
    facts = check_upload(xlsx_from_sheet(roster_sheet(100_000), level=1), "roster.xlsx", DEFAULTS)
    assert [(f.name, f.cells, f.max_row, f.max_col) for f in facts] == [("花名册", 25 * 100_001, 100_001, 25)]


@pytest.mark.parametrize("with_a1", [False, True])
def test_lone_far_cell_is_refused_by_its_range(with_a1):
    with pytest.raises(UploadRefused, match="列数过多") as exc:
        check_upload(far_cell_xlsx(with_a1), "roster.xlsx", DEFAULTS)
    assert "16384 列" in str(exc.value) and "花名册" in str(exc.value)


def test_far_cell_without_a_dimension_is_refused_by_the_cells_it_uses():
    """The declared dimension can be left out: the used range still counts."""
    rows = f'<row r="1">{text_cell("A1", "姓名")}</row><row r="900000">{text_cell("IV900000", "x")}</row>'
    with pytest.raises(UploadRefused, match=r"范围过大（已用范围 A1:IV900000，900000 行 × 256 列）"):
        check_upload(xlsx_from_sheet(sheet_xml(rows)), "roster.xlsx", DEFAULTS)


def test_zip_bomb_is_refused_by_its_ratio():
    data = bomb_xlsx(300 * 1024 * 1024)
    assert len(data) < 1024 * 1024
    with pytest.raises(UploadRefused, match="压缩比异常"):
        check_upload(data, "roster.xlsx", DEFAULTS)


def test_zip_bomb_declaring_a_small_size_is_refused_when_inflated():
    with pytest.raises(UploadRefused, match="已损坏"):
        check_upload(lying_bomb_xlsx(), "roster.xlsx", DEFAULTS)


def test_total_inflated_size_is_limited():
    data = xlsx_from_sheet(roster_sheet(2_000), level=1)
    small = Limits(**{**DEFAULTS.__dict__, "max_uncompressed": 100_000})
    with pytest.raises(UploadRefused, match="解压后过大"):
        check_upload(data, "roster.xlsx", small)


def test_millions_of_empty_styled_cells_are_refused_by_their_count():
    data = styled_cells_xlsx(DEFAULTS.max_cells + 250)
    with pytest.raises(UploadRefused, match=f"单元格过多：超过允许的 {DEFAULTS.max_cells} 个"):
        check_upload(data, "roster.xlsx", DEFAULTS)


def test_entities_are_refused():
    sheet = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + sheet_xml("")[len(b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'):]
    with pytest.raises(UploadRefused, match="DOCTYPE"):
        check_upload(xlsx_from_sheet(sheet), "roster.xlsx", DEFAULTS)


def test_unchecked_formats_and_long_csvs_are_refused():
    with pytest.raises(UploadRefused, match=r"另存为.*\.xlsx"):
        check_upload(b"\xd0\xcf\x11\xe0", "花名册.xls", DEFAULTS)
    lines = b"\n".join([b"a,b"] * (DEFAULTS.max_rows + 1))
    with pytest.raises(UploadRefused, match=f"行数过多：{DEFAULTS.max_rows + 1} 行"):
        check_upload(lines, "花名册.csv", DEFAULTS)


@pytest.mark.parametrize("kind", ["far", "far_a1", "bomb", "lying_bomb", "styled"])
def test_reader_refuses_attack_files_with_bounded_memory(kind, tmp_path, rss_of):
    """The reader itself (read_table, as every import and the comparison use it)
    refuses each attack file in a fresh process whose peak RSS stays small; before the
    check, the far cell with A1 aborted the process allocating 17 billion cells."""
    make = {
        "far": lambda: far_cell_xlsx(False),
        "far_a1": lambda: far_cell_xlsx(True),
        "bomb": lambda: bomb_xlsx(300 * 1024 * 1024),
        "lying_bomb": lying_bomb_xlsx,
        "styled": lambda: styled_cells_xlsx(DEFAULTS.max_cells + 250),
    }[kind]
    path = tmp_path / "attack.xlsx"
    path.write_bytes(make())
    rss, out = rss_of(
        "from edu_guard.registry import readers\n"
        "from edu_guard.registry.normalize import COLUMN_ALIASES\n"
        "try:\n"
        f"    readers.read_table({str(path)!r}, 'attack.xlsx', frozenset(COLUMN_ALIASES))\n"
        "    print('READ')\n"
        "except readers.ReadError as exc:\n"
        "    print('REFUSED', exc)\n"
    )
    assert out.startswith("REFUSED "), out
    assert rss < RSS_BOUND_MB, f"{kind}: peak RSS {rss:.0f} MB"


def test_reader_still_reads_the_sample_files(demo_dir):
    table = readers.read_table(demo_dir / "roster_2021_spring.xlsx", "roster_2021_spring.xlsx", frozenset(COLUMN_ALIASES))
    assert table.header[:3] == ["序号", "姓名", "性别"]


def test_import_page_refuses_before_storing(app, make_user, login):
    """The upload is refused on the page; nothing is stored and no import starts."""
    from pathlib import Path

    client = login(make_user("clerk"))
    resp = client.post(
        "/imports",
        data={"kind": "roster", "file": (io.BytesIO(far_cell_xlsx(True)), "花名册.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200
    assert "列数过多" in resp.get_data(as_text=True)
    assert not (Path(app.instance_path) / "uploads").exists() or not any((Path(app.instance_path) / "uploads").iterdir())


def test_comparison_refuses_a_bomb_as_household_register(app, make_user, login):
    client = login(make_user("clerk"))
    resp = client.post(
        "/comparisons",
        data={"kind": "household", "as_of": "2021-03-01", "file": (io.BytesIO(bomb_xlsx(300 * 1024 * 1024)), "户籍.xlsx")},
        content_type="multipart/form-data", follow_redirects=True,
    )
    # stored unread, checked by the comparison's job (the worker), which fails with the reason
    assert resp.status_code == 200 and resp.request.path.startswith("/jobs/")
    assert "压缩比异常" in resp.get_data(as_text=True)


def test_uploads_folder_is_private_and_old_raw_files_are_purged(app_ctx):
    """Stored uploads live in a 0700 folder; `edu-guard purge-uploads` deletes those
    whose last import is older than EDU_GUARD_UPLOAD_KEEP_DAYS (90), keeps the rest
    and every import run."""
    import hashlib
    from datetime import datetime, timedelta, timezone
    from edu_guard.db import db
    from edu_guard.registry.models import ImportRun
    from edu_guard.registry.jobs import purge_uploads
    from edu_guard.uploads import uploads_folder

    folder = uploads_folder()
    assert folder.stat().st_mode & 0o777 == 0o700
    now = datetime(2021, 9, 1, tzinfo=timezone.utc)
    files = {}
    for name, age in (("old", 91), ("recent", 89), ("reimported", 200)):
        data = name.encode()
        digest = hashlib.sha256(data).hexdigest()
        (folder / digest).write_bytes(data)
        files[name] = digest
        db.session.add(ImportRun(kind="roster", filename=f"{name}.csv", sha256=digest, started_at=now - timedelta(days=age)))
    # the same file imported again 10 days ago: kept
    db.session.add(ImportRun(kind="roster", filename="again.csv", sha256=files["reimported"], started_at=now - timedelta(days=10)))
    db.session.commit()
    (folder / "jobs").mkdir()
    assert [p["sha256"] for p in purge_uploads(now=now, dry_run=True)] == [files["old"]]
    assert (folder / files["old"]).exists()
    purged = purge_uploads(now=now)
    assert [p["sha256"] for p in purged] == [files["old"]]
    assert sorted(p.name for p in folder.iterdir()) == sorted([files["recent"], files["reimported"], "jobs"])
    assert db.session.query(ImportRun).count() == 4


def test_the_workers_purge_old_raw_files_once_a_day(app_ctx):
    """The queue's scheduler runs the purge daily at 03:30 China time (19:30 UTC);
    the daily run deletes a raw file whose last import is older than 90 days."""
    import hashlib
    from datetime import datetime, timedelta, timezone
    from edu_guard.db import db
    from edu_guard.jobs import queue
    from edu_guard.registry.models import ImportRun
    from edu_guard.uploads import uploads_folder

    huey = queue.queue_of()
    due = lambda at: [t.name for t in huey.read_periodic(at)]  # noqa: E731 - Huey reads UTC times
    assert due(datetime(2021, 9, 1, 19, 30)) == ["daily"]
    assert due(datetime(2021, 9, 1, 3, 30)) == [] and due(datetime(2021, 9, 1, 19, 31)) == []
    folder = uploads_folder()
    data = b"an old roster"
    digest = hashlib.sha256(data).hexdigest()
    (folder / digest).write_bytes(data)
    db.session.add(ImportRun(kind="roster", filename="old.csv", sha256=digest,
                             started_at=datetime.now(timezone.utc) - timedelta(days=91)))
    db.session.commit()
    assert queue.run_daily() == {"purge": {"uploads": 1, "job_files": 0}}
    assert not (folder / digest).exists()
