"""Platform users."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from api.schemas.common import RequestBody, WrittenOut

PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # argon2 hashes any length; a bound keeps a request from burning CPU


class UserRegistration(RequestBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "username": "matrix_user",
                    "full_name": "Matrix User",
                    "profile_picture": "https://pics.example/matrix_user.jpg",
                },
            ]
        }
    )

    username: str = Field(max_length=30)
    full_name: str = Field(max_length=200)
    profile_picture: str | None = Field(default=None, max_length=2000)


class UserRegistered(WrittenOut):
    user_id: str
    username: str


class PasswordIn(RequestBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "correct horse"}]})

    password: SecretStr = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class UserOut(BaseModel):
    user_id: str
    username: str
    full_name: str
    profile_picture: str
    sandbox_apps: list[str] = Field(
        description="client_ids of the apps the user is an "
        "accepted sandbox user of (ownership aside)"
    )
    has_password: bool
