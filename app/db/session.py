"""The request's database session: opened per request, committed in exactly one place."""

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield the request's session; commit when the endpoint succeeds, else roll back.

    Used with `scope="function"` so the commit happens before the response is sent: a
    client never sees success for a write that did not land.
    """
    async with request.app.state.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()
