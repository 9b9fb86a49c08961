"""Checks of free-form input: required text, absolute URLs, e-mail addresses."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInputError
from domain.validation import (
    optional_email,
    optional_url,
    require_absolute_url,
    require_display_text,
    require_text,
    shown_safely,
)


def test_required_text_is_stripped() -> None:
    assert require_text("  Photo Printer \n", "name") == "Photo Printer"


@pytest.mark.parametrize("value", ["", "   ", "\n\t"])
def test_blank_required_text_is_refused_naming_the_field(value: str) -> None:
    with pytest.raises(InvalidInputError, match="name is required"):
        require_text(value, "name")


def test_required_text_longer_than_the_limit_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="longer than 5"):
        require_text("abcdef", "name", max_length=5)


def test_required_text_at_the_limit_is_accepted() -> None:
    assert require_text("abcde", "name", max_length=5) == "abcde"


def test_absolute_http_url_is_accepted() -> None:
    assert require_absolute_url("https://photos.example/a?b=c", "website") == (
        "https://photos.example/a?b=c"
    )


@pytest.mark.parametrize("value", ["/callback", "photos.example/cb", "https:///cb", "mailto:a@b.c"])
def test_url_without_scheme_or_host_is_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="absolute URL"):
        require_absolute_url(value, "website")


@pytest.mark.parametrize("value", ["ftp://photos.example/", "photoprinter://oauth/done"])
def test_web_url_must_be_http_or_https(value: str) -> None:
    with pytest.raises(InvalidInputError, match="http or https"):
        require_absolute_url(value, "website")


def test_non_web_url_may_use_a_custom_scheme() -> None:
    assert require_absolute_url("photoprinter://oauth/done", "redirect_uri", web_only=False) == (
        "photoprinter://oauth/done"
    )


@pytest.mark.parametrize("value", ["https://photos.example/cb#top", "https://photos.example/cb#"])
def test_url_with_a_fragment_is_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="fragment"):
        require_absolute_url(value, "redirect_uri", web_only=False)


def test_url_with_white_space_inside_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="white space"):
        require_absolute_url("https://photos.example/my cb", "redirect_uri")


@pytest.mark.parametrize("value", [None, "", " "])
def test_missing_optional_url_is_empty(value: str | None) -> None:
    assert optional_url(value, "privacy_policy_url") == ""


def test_given_optional_url_must_be_absolute() -> None:
    with pytest.raises(InvalidInputError):
        optional_url("privacy.html", "privacy_policy_url")


def test_email_address_is_accepted_stripped() -> None:
    assert optional_email(" dev@photos.example ", "contact_email") == "dev@photos.example"


@pytest.mark.parametrize("value", ["dev", "dev@photos", "@photos.example", "d v@photos.example"])
def test_malformed_email_address_is_refused(value: str) -> None:
    with pytest.raises(InvalidInputError, match="e-mail"):
        optional_email(value, "contact_email")


@pytest.mark.parametrize("value", [None, "", "  "])
def test_missing_optional_email_is_empty(value: str | None) -> None:
    assert optional_email(value, "contact_email") == ""


def test_display_text_names_the_refused_character() -> None:
    with pytest.raises(InvalidInputError, match="U\\+202E RIGHT-TO-LEFT OVERRIDE"):
        require_display_text("Photo\u202eRetnirp", "name")


def test_display_text_allows_line_breaks_only_when_multiline() -> None:
    assert require_display_text("one\ntwo", "description", multiline=True) == "one\ntwo"
    with pytest.raises(InvalidInputError, match="U\\+000A"):
        require_display_text("one\ntwo", "name")


def test_hidden_characters_are_shown_as_replacement_characters() -> None:
    assert shown_safely("Photo\u202eRet\u200bnirp") == "Photo\ufffdRet\ufffdnirp"
