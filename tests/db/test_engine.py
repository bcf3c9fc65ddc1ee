"""``safetynet.db.engine``: Alembic is loaded where the schema is checked or migrated only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from safetynet.db.engine import create_database, current_revision, head_revision, migrate


def test_a_process_that_only_reads_does_not_load_alembic() -> None:
    """A snapshot or rules worker starts without Alembic's ≈ 0.09 s of imports."""
    code = (
        "import sys\n"
        "import safetynet.db.unit_of_work, safetynet.registry.snapshot, safetynet.batch.cycle\n"
        "print('alembic' in sys.modules)\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "False"


def test_the_schema_is_still_migrated_and_checked(tmp_path: Path) -> None:
    db = create_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        assert current_revision(db) is None
        migrate(db)
        assert current_revision(db) == head_revision()
    finally:
        db.dispose()
