"""Every model, imported here so that `Base.metadata` is always complete."""

from app.db.base import Base
from app.db.models.api_token import ApiToken
from app.db.models.approval import Approval
from app.db.models.attempt_counter import AttemptCounter
from app.db.models.client import Client
from app.db.models.event import Event
from app.db.models.event_counter import EventCounter
from app.db.models.import_file_chunk import ImportFileChunk
from app.db.models.import_run import ImportRun
from app.db.models.invitation import Invitation
from app.db.models.membership import Membership
from app.db.models.project import Project
from app.db.models.project_member import ProjectMember
from app.db.models.refresh_token import RefreshToken
from app.db.models.report_share import ReportShare
from app.db.models.stream_ticket import StreamTicket
from app.db.models.tag import Tag
from app.db.models.task import Task
from app.db.models.time_entry import TimeEntry
from app.db.models.time_entry_tag import time_entry_tags
from app.db.models.user import User
from app.db.models.webhook import Webhook
from app.db.models.webhook_delivery import WebhookDelivery
from app.db.models.webhook_subscription import webhook_subscriptions
from app.db.models.workspace import Workspace
from app.db.models.workspace_restore import WorkspaceRestore

__all__ = [
    "ApiToken",
    "Approval",
    "AttemptCounter",
    "Base",
    "Client",
    "Event",
    "EventCounter",
    "ImportFileChunk",
    "ImportRun",
    "Invitation",
    "Membership",
    "Project",
    "ProjectMember",
    "RefreshToken",
    "ReportShare",
    "StreamTicket",
    "Tag",
    "Task",
    "TimeEntry",
    "User",
    "Webhook",
    "WebhookDelivery",
    "Workspace",
    "WorkspaceRestore",
    "time_entry_tags",
    "webhook_subscriptions",
]
