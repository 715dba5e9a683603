from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Input, Schema

RefreshTokenText = Annotated[str, Field(min_length=1, max_length=256)]


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the OAuth2 token type, no secret
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Exchange at /auth/refresh for new tokens; also set as an HttpOnly cookie."
    )


class PasswordForm(Input):
    """The OAuth2 password grant's form; other OAuth2 fields (grant_type, scope) are ignored."""

    username: str = Field(max_length=320, description="The account's email.")
    password: str = Field(max_length=256)


class RefreshRequest(Schema):
    refresh_token: RefreshTokenText
