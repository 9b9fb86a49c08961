"""Which scopes each legacy API endpoint needs (the reference's endpoint table).

Reading another user's data needs ``public_content``. For likes and comments on media, the gate
needs to know whose media it is; when the caller cannot say, the media is treated as someone
else's, so the stricter rule applies.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.errors import InvalidInputError

BASIC, PUBLIC, FOLLOWERS, RELATIONSHIPS, LIKES, COMMENTS = (
    "basic",
    "public_content",
    "follower_list",
    "relationships",
    "likes",
    "comments",
)


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    scopes: tuple[str, ...]
    other_user_scopes: tuple[str, ...] | None = None  # when {id} / the media is not the user's


def _route(method: str, template: str, *scopes: str, other: tuple[str, ...] | None = None) -> Route:
    # The first placeholder is the subject (user or media); any later one is just a segment.
    regex = re.sub(r"\{[a-z_]+\}", r"(?P<id>[^/]+)", template.rstrip("/"), count=1)
    regex = re.sub(r"\{[a-z_]+\}", r"[^/]+", regex)
    return Route(method, re.compile(f"^{regex}/?$"), scopes, other)


ROUTES: tuple[Route, ...] = (
    _route("GET", "/users/self", BASIC),
    _route("GET", "/users/self/media/recent", BASIC),
    _route("GET", "/users/self/media/liked", PUBLIC),
    _route("GET", "/users/search", PUBLIC),
    _route("GET", "/users/self/follows", FOLLOWERS),
    _route("GET", "/users/self/followed-by", FOLLOWERS),
    _route("GET", "/users/self/requested-by", FOLLOWERS),
    _route("GET", "/users/{id}/relationship", FOLLOWERS),
    _route("POST", "/users/{id}/relationship", RELATIONSHIPS),
    _route("GET", "/users/{id}", BASIC, other=(PUBLIC,)),
    _route("GET", "/users/{id}/media/recent", BASIC, other=(PUBLIC,)),
    _route("GET", "/media/{id}/likes", PUBLIC),
    _route("POST", "/media/{id}/likes", LIKES, other=(LIKES, PUBLIC)),
    _route("DELETE", "/media/{id}/likes", LIKES, other=(LIKES, PUBLIC)),
    _route("GET", "/media/{id}/comments", PUBLIC),
    _route("POST", "/media/{id}/comments", COMMENTS, other=(COMMENTS, PUBLIC)),
    _route("DELETE", "/media/{id}/comments", COMMENTS, other=(COMMENTS, PUBLIC)),
    _route("DELETE", "/media/{id}/comments/{comment_id}", COMMENTS, other=(COMMENTS, PUBLIC)),
    _route("GET", "/media/shortcode/{code}", PUBLIC),
    _route("GET", "/media/search", PUBLIC),
    _route("GET", "/media/{id}", PUBLIC),
)

_PREFIXED_PUBLIC = ("/tags/", "/locations/")


def _normalised(method: str, path: str) -> tuple[str, str]:
    path = "/" + path.split("?", 1)[0].strip("/")
    return method.upper(), path[3:] if path.startswith("/v1/") else path


def data_owner(
    method: str, path: str, *, token_user: str | None = None, resource_owner: str | None = None
) -> str | None:
    """The other user (an id) whose data a call names: the ``{id}`` of a ``/users/{id}``
    endpoint, else the owner of the media the gateway gives. None for the token's own user, and
    when the call names no one (a search or a tag: the gateway limits the results in sandbox
    mode, as the decision's constraints say)."""
    method, path = _normalised(method, path)
    owner = resource_owner
    if path.startswith("/users/"):
        owner = next(
            (
                match.groupdict().get("id")
                for route in ROUTES
                if route.method == method and (match := route.pattern.match(path)) is not None
            ),
            None,
        )
    if owner is None or owner == "self" or (token_user is not None and owner == token_user):
        return None
    return owner


def required_scopes(
    method: str, path: str, *, token_user: str | None = None, resource_owner: str | None = None
) -> tuple[str, ...]:
    """The scopes a call needs. ``token_user`` is the token's user id; ``resource_owner`` the
    owner of the media (for media endpoints) when the caller knows it."""
    method, path = _normalised(method, path)
    if method == "GET" and path.startswith(_PREFIXED_PUBLIC):
        return (PUBLIC,)
    for route in ROUTES:
        match = route.pattern.match(path)
        if route.method != method or match is None:
            continue
        if route.other_user_scopes is None:
            return route.scopes
        subject = match.groupdict().get("id")
        if path.startswith("/users/"):
            own = subject == "self" or (token_user is not None and subject == token_user)
        else:
            own = resource_owner is not None and resource_owner == token_user
        return route.scopes if own else route.other_user_scopes
    raise InvalidInputError(f"Unknown legacy endpoint: {method} {path}")
