"""Where the shipped folders are (路径): the top-level templates/ and migrations/ of the
source tree, or their copies inside an installed wheel; and the files an instance keeps."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    """The top-level folder ``name`` of the source tree, or its copy inside the
    installed package (a wheel puts templates/ and migrations/ under edu_guard/)."""
    source = PACKAGE_DIR.parent / name
    return source if source.is_dir() else PACKAGE_DIR / name


#: The top-level templates/ and migrations/.
TEMPLATE_DIR = _shipped("templates")
MIGRATIONS_DIR = _shipped("migrations")

#: The file in the instance folder where ``edu-guard init`` leaves the first admin's
#: login until that admin chooses a new password.
INITIAL_ADMIN_FILE = "initial_admin.txt"
