from piccolo.columns import Text, Varchar
from piccolo.table import Table


class AppSetting(Table, tablename="app_setting"):
    """Small key/value settings: the admin's settings page and values the app keeps for itself."""

    key = Varchar(length=100, unique=True)
    value = Text()
