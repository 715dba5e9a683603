from app.db.models import Tag
from app.repositories.catalog import CatalogRepository


class TagRepository(CatalogRepository[Tag]):
    model = Tag
    conflict_detail = "A tag with this name already exists in the workspace."
    not_found_detail = "Tag not found."
