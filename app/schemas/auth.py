from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Input, Schema, examples

RefreshTokenText = Annotated[str, Field(min_length=1, max_length=256)]


class TokenResponse(BaseModel):
    """Tokens from a sign-in or a refresh."""

    model_config = examples(
        {
            "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI5YjJlIn0.c2ln",
            "token_type": "bearer",
            "expires_in": 900,
            "refresh_token": "tsr_Qm9yZ2VzIGxpYnJhcnkgb2YgQmFiZWw",
        }
    )

    access_token: str = Field(description="A JWT; send it as `Authorization: Bearer <token>`.")
    token_type: Literal["bearer"] = Field(default="bearer", description="Always `bearer`.")
    expires_in: int = Field(description="Seconds until the access token expires.")
    refresh_token: str = Field(
        description="Exchange at /auth/refresh for new tokens; also set as an HttpOnly cookie."
    )


class PasswordForm(Input):
    """The OAuth2 password grant's form; other OAuth2 fields (grant_type, scope) are ignored."""

    model_config = examples({"username": "ada@example.com", "password": "a long password"})

    username: str = Field(max_length=320, description="The account's email.")
    password: str = Field(max_length=256, description="The account's password.")


class RefreshRequest(Schema):
    """A refresh token to exchange or revoke; without a body, the cookie's is used."""

    model_config = examples({"refresh_token": "tsr_Qm9yZ2VzIGxpYnJhcnkgb2YgQmFiZWw"})

    refresh_token: RefreshTokenText = Field(description="The refresh token of the last sign-in.")
