"""Piccolo's configuration: the engine comes from CRM_DATABASE_URL, like the app's."""

import os
from pathlib import Path

from piccolo.conf.apps import AppRegistry

from crm.db import make_engine
from crm.settings import DatabaseURL

DB = make_engine(
    DatabaseURL.parse(os.environ.get("CRM_DATABASE_URL", "").strip() or "sqlite:///var/crm.sqlite", base=Path.cwd())
)

APP_REGISTRY = AppRegistry(apps=["crm.piccolo_app"])
