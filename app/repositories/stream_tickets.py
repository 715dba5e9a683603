import uuid
from datetime import datetime

from sqlalchemy import delete, update

from app.db.models import StreamTicket
from app.repositories.base import Repository
from app.security import new_secret_token, token_digest

STREAM_TICKET_PREFIX = "tst_"


class StreamTicketRepository(Repository[StreamTicket]):
    model = StreamTicket

    async def issue(
        self,
        *,
        user_id: uuid.UUID,
        workspace_id: uuid.UUID,
        token_generation: int,
        api_token_id: uuid.UUID | None,
        now: datetime,
        expires_at: datetime,
    ) -> str:
        """Store a new ticket and return its secret, which is not kept. Tickets that have
        expired, used or not, are removed on the way: the table holds only live ones."""
        await self.session.execute(delete(StreamTicket).where(StreamTicket.expires_at <= now))
        secret = new_secret_token(STREAM_TICKET_PREFIX)
        await self.create(
            token_hash=token_digest(secret),
            user_id=user_id,
            workspace_id=workspace_id,
            token_generation=token_generation,
            api_token_id=api_token_id,
            expires_at=expires_at,
        )
        return secret

    async def redeem(
        self, secret: str, workspace_id: uuid.UUID, now: datetime
    ) -> tuple[uuid.UUID, int, uuid.UUID | None] | None:
        """Mark the ticket used and return whose it is (user, token generation, API token),
        or None when no unused, unexpired ticket of this workspace has that secret.

        One statement: of two requests presenting the same ticket, in any worker, exactly
        one gets it."""
        statement = (
            update(StreamTicket)
            .where(
                StreamTicket.token_hash == token_digest(secret),
                StreamTicket.workspace_id == workspace_id,
                StreamTicket.used_at.is_(None),
                StreamTicket.expires_at > now,
            )
            .values(used_at=now)
            .returning(
                StreamTicket.user_id, StreamTicket.token_generation, StreamTicket.api_token_id
            )
            .execution_options(synchronize_session=False)
        )
        row = (await self.session.execute(statement)).first()
        return (row[0], row[1], row[2]) if row else None
