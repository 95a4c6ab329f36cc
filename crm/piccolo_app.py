"""The single Piccolo app; its migrations live in the top-level migrations/ folder."""

from piccolo.conf.apps import AppConfig

from crm import ROOT
from crm.accounts.tables import ApiToken, AuthSession, LoginFailure, User
from crm.audit.tables import AuditEntry
from crm.briefings.tables import Briefing, SuggestionFeedback
from crm.faq.tables import FaqEntry, FaqRevision
from crm.imports.tables import ImportIssue, ImportJob, ImportMapping
from crm.incidents.tables import CorrectiveAction, Incident, IncidentConversation, Statement, TalkingPoints
from crm.members.tables import (
    ErasedIdentity,
    Handle,
    Interaction,
    Member,
    MemberDay,
    MemberMerge,
    MemberTopic,
)
from crm.preferences.tables import AppSetting
from crm.questions.tables import LateQuestion
from crm.thanks.tables import ThanksDismissal, ThankYou, ThankYouTemplate

APP_CONFIG = AppConfig(
    app_name="crm",
    migrations_folder_path=str(ROOT / "migrations"),
    # Parents before children: the test helper empties tables in reverse order.
    table_classes=[
        User,
        AuthSession,
        ApiToken,
        LoginFailure,
        AuditEntry,
        Member,
        MemberTopic,
        Handle,
        Interaction,
        MemberDay,
        MemberMerge,
        ErasedIdentity,
        AppSetting,
        Incident,
        Statement,
        CorrectiveAction,
        TalkingPoints,
        IncidentConversation,
        Briefing,
        SuggestionFeedback,
        FaqEntry,
        FaqRevision,
        ThankYou,
        ThankYouTemplate,
        ThanksDismissal,
        LateQuestion,
        ImportJob,
        ImportIssue,
        ImportMapping,
    ],
    migration_dependencies=[],
    commands=[],
)
