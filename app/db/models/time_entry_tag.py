from sqlalchemy import Column, ForeignKeyConstraint, Index, Table, Uuid

from app.db.base import Base

# Carries workspace_id so composite keys keep an entry's tags inside the entry's workspace.
time_entry_tags = Table(
    "time_entry_tags",
    Base.metadata,
    Column("time_entry_id", Uuid, primary_key=True),
    Column("tag_id", Uuid, primary_key=True),
    Column("workspace_id", Uuid, nullable=False),
    ForeignKeyConstraint(
        ["time_entry_id", "workspace_id"],
        ["time_entries.id", "time_entries.workspace_id"],
        ondelete="CASCADE",
    ),
    ForeignKeyConstraint(
        ["tag_id", "workspace_id"], ["tags.id", "tags.workspace_id"], ondelete="CASCADE"
    ),
    Index(None, "workspace_id", "tag_id"),
)
