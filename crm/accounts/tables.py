from piccolo.columns import Boolean, ForeignKey, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from crm.accounts.roles import Role


class User(Table, tablename="crm_user"):
    # Stored lower-cased so uniqueness is case-insensitive on both engines.
    email = Varchar(length=254, unique=True)
    name = Varchar(length=200)
    role = Varchar(length=16, choices=Role)
    password_hash = Text()
    is_active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
    password_changed_at = Timestamptz(null=True, default=None)


class AuthSession(Table, tablename="auth_session"):
    """A server-side login session. Only a hash of the cookie value is stored."""

    token_hash = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(index=True)
    ip = Varchar(length=64, null=True, default=None)
    user_agent = Varchar(length=300, null=True, default=None)


class ApiToken(Table, tablename="api_token"):
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=16)
    user = ForeignKey(references=User, on_delete=OnDelete.cascade, index=True)
    label = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


class LoginFailure(Table, tablename="login_failure"):
    """One failed login; counted per account and per IP over a sliding window."""

    key = Varchar(length=300, index=True)
    at = Timestamptz(default=TimestamptzNow(), index=True)
