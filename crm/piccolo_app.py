"""The single Piccolo app; its migrations live in the top-level migrations/ folder."""

from piccolo.conf.apps import AppConfig

from crm import ROOT
from crm.accounts.tables import ApiToken, AuthSession, LoginFailure, User
from crm.audit.tables import AuditEntry

APP_CONFIG = AppConfig(
    app_name="crm",
    migrations_folder_path=str(ROOT / "migrations"),
    table_classes=[User, AuthSession, ApiToken, LoginFailure, AuditEntry],
    migration_dependencies=[],
    commands=[],
)
