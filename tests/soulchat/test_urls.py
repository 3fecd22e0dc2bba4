"""The one URL redaction helper (``soulchat.urls``) and its neighbours: the HTTP URL check,
credentials split off for basic auth, and URLs hidden in an HTTP client's log lines."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pytest

from soulchat.urls import check_http_url, hide_in_logs, redact_url, split_credentials


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@h:6379/0", "redis://:***@h:6379/0"),
        ("postgresql://u:hunter2@h/db", "postgresql://u:***@h/db"),
        # IPv6 hosts keep their brackets and port.
        ("redis://u:pw@[::1]:6379/0", "redis://u:***@[::1]:6379/0"),
        ("http://u:pw@[2001:db8::7]/hook", "http://u:***@[2001:db8::7]/hook"),
        ("redis://[::1]:6379/0", "redis://[::1]:6379/0"),
        # A user without a password: nothing to hide.
        ("redis://u@h:6379/0", "redis://u@h:6379/0"),
        ("postgresql://u:@h/db", "postgresql://u:***@h/db"),
        # No credentials, or no authority at all.
        ("redis://h:6379/0", "redis://h:6379/0"),
        (
            "embedded+sqlite:////tmp/soulchat/queue.sqlite3",
            "embedded+sqlite:////tmp/soulchat/queue.sqlite3",
        ),
        ("sqlite:///relative.db", "sqlite:///relative.db"),
        ("memory://", "memory://"),
        ("not a url", "not a url"),
        # Passwords SQLAlchemy accepts unencoded: "/", "?", "#" and "@" in them.
        ("postgresql://u:p/ss@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p?s#s@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        # An "@" after the host is not user information.
        ("http://h:8080/p@x", "http://h:8080/p@x"),
        ("https://h/hook?email=a@b.org", "https://h/hook?email=a@b.org"),
        # Secret-looking query parameters.
        ("redis://h:6379/0?password=s3&db=1", "redis://h:6379/0?password=***&db=1"),
        ("https://h/hook?x=1&token=s3#top", "https://h/hook?x=1&token=***#top"),
        ("https://h/v1?api-key=s3&api-version=2", "https://h/v1?api-key=***&api-version=2"),
    ],
)
def test_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pa55@[::1]:8080/tgi?key=abc#frag", "http://[::1]:8080/tgi"),
        ("https://hook-user@hooks.example:8443/x?email=a@b", "https://hooks.example:8443/x"),
        (
            "http://127.0.0.1:9/tgi/v1/chat/completions",
            "http://127.0.0.1:9/tgi/v1/chat/completions",
        ),
        ("http://u:p/ss@h/hook", "http://h/hook"),
        ("https://H.Example/Hook", "https://H.Example/Hook"),  # kept as written
    ],
)
def test_dropped(url: str, shown: str) -> None:
    assert redact_url(url, credentials="drop", query="drop") == shown


def test_modes_combine() -> None:
    url = "redis://u:pw@[::1]:6379/0?password=s3"
    assert redact_url(url, credentials="drop") == "redis://[::1]:6379/0?password=***"
    assert redact_url(url, query="drop") == "redis://u:***@[::1]:6379/0"


@pytest.mark.parametrize(
    "url", ["ftp://h/x", "h:8080", "", "http://", "https://h:port/x", "file:///etc/passwd"]
)
def test_only_http_urls_with_a_host_pass_the_check(url: str) -> None:
    with pytest.raises(ValueError, match="the thing"):
        check_http_url(url, "the thing")


def test_the_check_does_not_quote_the_url() -> None:
    with pytest.raises(ValueError) as caught:
        check_http_url("ftp://user:pa55@h/x?token=s3")
    assert "pa55" not in str(caught.value) and "s3" not in str(caught.value)


def test_credentials_become_basic_auth() -> None:
    parts = urlsplit("http://us%40er:pa%2F55@[::1]:8080/hook?token=t#frag")
    assert split_credentials(parts) == ("http://[::1]:8080/hook?token=t", ("us@er", "pa/55"))
    assert split_credentials(urlsplit("https://h/x")) == ("https://h/x", None)
    assert split_credentials(urlsplit("https://u@h/x")) == ("https://h/x", ("u", ""))


def test_hidden_urls_are_replaced_in_log_arguments(caplog: pytest.LogCaptureFixture) -> None:
    hide_in_logs("tests.urls.client", "https://h/hook?token=s3", "https://h/hook")
    with caplog.at_level(logging.INFO, logger="tests.urls.client"):
        logging.getLogger("tests.urls.client").info(
            "HTTP Request: %s %s %d", "POST", "https://h/hook?token=s3", 200
        )
    assert caplog.messages == ["HTTP Request: POST https://h/hook 200"]
