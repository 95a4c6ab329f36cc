"""Apply Piccolo's migrations for the one `crm` app to the bound engine."""

from __future__ import annotations

import contextlib
import io

from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration


class MigrationFailed(Exception):
    pass


async def migrate() -> list[str]:
    """Run every migration not yet applied; returns the ids it applied."""
    await Migration.create_table(if_not_exists=True).run()
    before = set(await Migration.get_migrations_which_ran(app_name="crm"))
    output = io.StringIO()
    with contextlib.redirect_stdout(output):  # Piccolo prints progress emoji; we report a summary instead
        result = await run_forwards(app_name="crm")
    if not result.success:
        raise MigrationFailed(f"{result.message}\n{output.getvalue()}")
    after = set(await Migration.get_migrations_which_ran(app_name="crm"))
    return sorted(after - before)
