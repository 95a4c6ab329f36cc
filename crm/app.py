"""create_app(settings) -> Litestar: the one place the app is assembled."""

from __future__ import annotations

import logging

from litestar import Litestar, Request
from litestar.config.csrf import CSRFConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from piccolo.engine.base import Engine

from crm import ROOT, db, wiring
from crm.accounts.api import AccountsAPI
from crm.accounts.auth import AuthMiddleware, login_required
from crm.accounts.controllers import AccountController, AdminTokensController, AdminUsersController, LoginController
from crm.advocacy.api import AdvocacyAPI
from crm.advocacy.controllers import SupportiveController
from crm.audit.controllers import AuditController
from crm.briefings.api import BriefingsAPI
from crm.briefings.controllers import BriefingsController
from crm.clock import Clock, utc_now
from crm.dependencies import DEPENDENCIES
from crm.exports.api import ExportsAPI
from crm.exports.controllers import ExportsController
from crm.faq.api import FaqAPI
from crm.faq.controllers import FaqController
from crm.faq.public_controllers import PublicFaqController
from crm.health import healthz
from crm.imports.api import ImportsAPI
from crm.imports.controllers import ImportsController
from crm.imports.runner import Runner
from crm.incidents.api import IncidentsAPI
from crm.incidents.controllers import IncidentsController
from crm.incidents.interactions_controllers import InteractionsController
from crm.incidents.queries import freezing_incidents
from crm.incidents.talking_points_controllers import TalkingPointsController
from crm.members.api import MembersAPI
from crm.members.controllers import MembersController
from crm.pages.dashboard import DashboardController
from crm.pages.incident import IncidentPageController
from crm.pages.member import MemberPageController
from crm.preferences.controllers import SettingsController
from crm.questions.api import LateQuestionsAPI
from crm.questions.controllers import QuestionsController
from crm.security import CSRF_COOKIE, CSRF_HEADER, BearerAwareCSRFMiddleware, security_headers
from crm.settings import Settings
from crm.templating import configure_environment
from crm.thanks.api import ThanksAPI
from crm.thanks.controllers import ThanksController
from crm.thanks.queries import due_counts
from crm.web import EXCEPTION_HANDLERS

MAX_BODY_BYTES = 1024 * 1024

ROUTES = [
    healthz,
    LoginController,
    AccountController,
    DashboardController,
    AdminUsersController,
    AdminTokensController,
    AuditController,
    AccountsAPI,
    MembersAPI,
    MembersController,
    ExportsAPI,
    ExportsController,
    MemberPageController,
    IncidentsAPI,
    IncidentsController,
    IncidentPageController,
    TalkingPointsController,
    InteractionsController,
    SettingsController,
    BriefingsAPI,
    BriefingsController,
    FaqAPI,
    FaqController,
    PublicFaqController,
    ThanksAPI,
    ThanksController,
    LateQuestionsAPI,
    QuestionsController,
    AdvocacyAPI,
    SupportiveController,
    ImportsAPI,
    ImportsController,
]


async def load_freeze_banner(request: Request) -> None:
    """Every page shows the promotion freeze (playbook step 9); API calls use /api/v1/status."""
    if not request.url.path.startswith(("/api/", "/static/", "/healthz", "/schema")):
        request.state.freeze = await freezing_incidents()
        if request.scope.get("user") is not None:  # the nav's "Thank-yous" badge, signed-in pages only
            request.state.thanks_due = await due_counts(request.app.state.clock())


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    clock: Clock = utc_now,
    manage_pool: bool = True,
) -> Litestar:
    wiring.connect()
    settings = settings or Settings.from_env()
    engine = engine or db.make_engine(settings.database)
    db.bind(engine)
    # Imports queued by the page and the API run in this process, in the background (crm/imports/runner.py).
    imports = Runner(clock=clock, var_dir=settings.var_dir)

    async def on_startup() -> None:
        await db.start(engine, pool=manage_pool)
        await imports.start()  # jobs a stopped server left behind resume after their last batch

    async def on_shutdown() -> None:
        await imports.stop()
        await db.stop(engine)

    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=settings.production,
        cookie_samesite="lax",
        cookie_httponly=False,
        exclude=["^/static/", "^/healthz"],
    )
    app = Litestar(
        route_handlers=[
            *ROUTES,
            create_static_files_router(
                path="/static", directories=[ROOT / "crm" / "static"], opt={"public": True}, include_in_schema=False
            ),
        ],
        middleware=[DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf), AuthMiddleware],
        guards=[login_required],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        template_config=TemplateConfig(
            directory=ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=lambda engine: configure_environment(engine.engine, settings),
        ),
        openapi_config=OpenAPIConfig(
            title="Advocate CRM API",
            version="1",
            path="/schema",
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"])],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="A token from `crm token create EMAIL`."
                    ),
                }
            ),
            security=[{"BearerToken": []}],
        ),
        before_send=[security_headers(settings.production)],
        before_request=load_freeze_banner,
        on_startup=[on_startup],
        on_shutdown=[on_shutdown],
        request_max_body_size=MAX_BODY_BYTES,
        debug=False,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.imports = imports
    return app


def create_app_from_env() -> Litestar:
    """Factory for uvicorn (``crm serve``)."""
    logging.basicConfig(level=logging.INFO)
    return create_app()
