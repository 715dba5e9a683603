from sqlalchemy import Select, func

from app.db.models import Tag
from app.repositories.base import ScopedRepository


class TagRepository(ScopedRepository[Tag]):
    model = Tag
    conflict_detail = "A tag with this name already exists in the workspace."
    not_found_detail = "Tag not found."

    def search(self, query: str | None, *, include_deleted: bool) -> Select[tuple[Tag]]:
        statement = self.select(include_deleted=include_deleted)
        if query:
            statement = statement.where(func.lower(Tag.name).contains(query.lower()))
        return statement
