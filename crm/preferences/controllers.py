"""The admin settings page: every preference with its current value; errors next to the fields."""

from __future__ import annotations

from datetime import datetime

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from crm.accounts.auth import requires
from crm.audit.service import Actor
from crm.errors import InvalidInput
from crm.forms import read_form
from crm.preferences import queries, service
from crm.web import page, redirect

SETTINGS = requires("settings.manage", "change settings")


def _page(request: Request, *, values: dict, errors: dict, status_code: int = 200) -> Template:
    prefs = [
        {
            "key": p.key,
            "label": p.label,
            "help": p.help,
            "minimum": p.minimum,
            "maximum": p.maximum,
            "boolean": isinstance(p.default, bool),
            "default": p.default,
        }
        for p in queries.PREFERENCES.values()
    ]
    return page(
        request,
        "admin/settings.html",
        status_code=status_code,
        title="Settings",
        prefs=prefs,
        values=values,
        errors=errors,
    )


class SettingsController(Controller):
    path = "/admin/settings"
    guards = [SETTINGS]
    include_in_schema = False

    @get("/")
    async def show(self, request: Request) -> Template:
        return _page(request, values=await queries.all_values(), errors={})

    @post("/")
    async def update(self, request: Request, now: datetime, actor: Actor) -> Template | Redirect:
        form = await read_form(request)
        # An unticked checkbox is simply absent, so booleans are always read; a number missing from the
        # form (an older page, a partial post) keeps its stored value rather than being refused.
        values = {
            key: form.get(key, "").strip()
            for key, pref in queries.PREFERENCES.items()
            if isinstance(pref.default, bool) or key in form
        }
        try:
            await service.update(values=values, actor=actor, now=now)
        except InvalidInput as exc:
            shown = {
                key: (value == "on" if isinstance(queries.PREFERENCES[key].default, bool) else value)
                for key, value in values.items()
            }
            return _page(request, values=shown, errors=exc.fields, status_code=exc.status_code)
        return redirect(request, "/admin/settings", flash="Settings saved.")
