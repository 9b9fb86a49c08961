"""Which scopes each legacy endpoint needs: every row of the reference's endpoint table."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.endpoints import data_owner, required_scopes
from domain.errors import InvalidInputError

ME = "5628f1f73a7955b9a003f9bf62761ece"  # the token's user id
OTHER = "b52a58fddad05af282971a1bf6c05786"

user_ids = st.text(alphabet="0123456789abcdefghijklmnopqrstuvwxyz_.", min_size=1, max_size=32)


# --- users --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/users/self", "/users/self/media/recent"])
def test_own_profile_and_media_need_basic(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("basic",)


@pytest.mark.parametrize("path", [f"/users/{OTHER}", f"/users/{OTHER}/media/recent"])
def test_another_users_profile_and_media_need_public_content(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("public_content",)


@pytest.mark.parametrize("path", [f"/users/{ME}", f"/users/{ME}/media/recent"])
def test_own_profile_and_media_by_id_need_basic(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("basic",)


def test_a_user_by_id_needs_public_content_when_the_token_user_is_unknown() -> None:
    assert required_scopes("GET", f"/users/{ME}") == ("public_content",)


@given(user=user_ids)
def test_any_other_users_profile_needs_public_content(user: str) -> None:
    assume(user not in {"self", ME})
    assert required_scopes("GET", f"/users/{user}", token_user=ME) == ("public_content",)


@given(user=user_ids)
def test_any_other_users_recent_media_needs_public_content(user: str) -> None:
    assume(user not in {"self", ME})
    assert required_scopes("GET", f"/users/{user}/media/recent", token_user=ME) == (
        "public_content",
    )


@given(user=user_ids)
def test_any_users_own_profile_by_id_needs_basic(user: str) -> None:
    assume(user != "search")  # GET /users/search is its own endpoint
    assert required_scopes("GET", f"/users/{user}", token_user=user) == ("basic",)


@pytest.mark.parametrize("path", ["/users/self/media/liked", "/users/search"])
def test_liked_media_and_user_search_need_public_content(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("public_content",)


@pytest.mark.parametrize(
    "path",
    [
        "/users/self/follows",
        "/users/self/followed-by",
        "/users/self/requested-by",
        f"/users/{OTHER}/relationship",
    ],
)
def test_follower_lists_and_reading_a_relationship_need_follower_list(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("follower_list",)


def test_changing_a_relationship_needs_relationships() -> None:
    assert required_scopes("POST", f"/users/{OTHER}/relationship", token_user=ME) == (
        "relationships",
    )


# --- media ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/media/1/likes", "/media/1/comments"])
def test_reading_likes_and_comments_of_media_needs_public_content(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("public_content",)


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_liking_someone_elses_media_needs_likes_and_public_content(method: str) -> None:
    assert required_scopes(method, "/media/1/likes", token_user=ME, resource_owner=OTHER) == (
        "likes",
        "public_content",
    )


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_liking_own_media_needs_likes_only(method: str) -> None:
    assert required_scopes(method, "/media/1/likes", token_user=ME, resource_owner=ME) == ("likes",)


def test_liking_media_of_an_unknown_owner_needs_public_content_too() -> None:
    assert required_scopes("POST", "/media/1/likes", token_user=ME) == ("likes", "public_content")


def test_liking_media_with_an_unknown_token_user_needs_public_content_too() -> None:
    assert required_scopes("POST", "/media/1/likes", resource_owner=ME) == (
        "likes",
        "public_content",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/media/1/comments"),
        ("DELETE", "/media/1/comments"),
        ("DELETE", "/media/1/comments/77"),
    ],
)
def test_commenting_on_someone_elses_media_needs_comments_and_public_content(
    method: str, path: str
) -> None:
    assert required_scopes(method, path, token_user=ME, resource_owner=OTHER) == (
        "comments",
        "public_content",
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/media/1/comments"),
        ("DELETE", "/media/1/comments"),
        ("DELETE", "/media/1/comments/77"),
    ],
)
def test_commenting_on_own_media_needs_comments_only(method: str, path: str) -> None:
    assert required_scopes(method, path, token_user=ME, resource_owner=ME) == ("comments",)


@pytest.mark.parametrize(
    "path",
    [
        "/media/1",
        "/media/shortcode/D",
        "/media/search",
        "/tags/x/media/recent",
        "/tags/x",
        "/tags/search",
        "/locations/1",
        "/locations/1/media/recent",
        "/locations/search",
    ],
)
def test_media_tags_and_locations_need_public_content(path: str) -> None:
    assert required_scopes("GET", path, token_user=ME) == ("public_content",)


@given(tag=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20))
def test_any_tags_recent_media_needs_public_content(tag: str) -> None:
    assert required_scopes("GET", f"/tags/{tag}/media/recent") == ("public_content",)


# --- how paths and methods are read ---------------------------------------------------------------


def test_the_v1_prefix_is_ignored() -> None:
    assert required_scopes("GET", "/v1/users/self") == ("basic",)


def test_the_query_string_is_ignored() -> None:
    assert required_scopes("GET", "/users/self?access_token=x&sig=y") == ("basic",)


def test_a_trailing_slash_is_ignored() -> None:
    assert required_scopes("GET", "/users/self/") == ("basic",)


def test_the_method_is_case_insensitive() -> None:
    assert required_scopes("post", "/media/1/likes", token_user=ME, resource_owner=ME) == ("likes",)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/feed"),
        ("PUT", "/users/self"),
        ("POST", "/users/self"),
        ("POST", "/tags/x/media/recent"),
        ("GET", "/users/self/feed"),
        ("PATCH", "/media/1/likes"),
    ],
)
def test_an_unknown_endpoint_is_invalid_input(method: str, path: str) -> None:
    with pytest.raises(InvalidInputError, match="Unknown legacy endpoint"):
        required_scopes(method, path)


# --- whose data a call names ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/users/{OTHER}"),
        ("GET", f"/v1/users/{OTHER}/media/recent"),
        ("POST", f"/users/{OTHER}/relationship"),
        ("GET", f"/users/{OTHER}/relationship"),
    ],
)
def test_a_users_endpoint_names_the_user_of_its_path(method: str, path: str) -> None:
    assert data_owner(method, path, token_user=ME) == OTHER


@pytest.mark.parametrize(
    "path", ["/users/self", "/users/self/media/recent", f"/users/{ME}", "/users/search"]
)
def test_own_data_or_a_search_names_no_other_user(path: str) -> None:
    assert data_owner("GET", path, token_user=ME) is None


def test_media_endpoint_names_the_resource_owner_given() -> None:
    assert data_owner("POST", "/media/1/likes", token_user=ME, resource_owner=OTHER) == OTHER


def test_media_endpoint_without_a_resource_owner_names_no_one() -> None:
    assert data_owner("GET", "/media/1/comments", token_user=ME) is None


def test_own_media_names_no_other_user() -> None:
    assert data_owner("DELETE", "/media/1/likes", token_user=ME, resource_owner=ME) is None
