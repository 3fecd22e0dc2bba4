"""URLs that may hold secrets: the one redaction helper for messages and logs, the check of an
HTTP client's URL, and credentials split off into basic auth.

Standard library only, so every part of SoulChat can use it: ``soulchat.config`` (broker and
database URLs), the Messages API client (``inference.messages_api``) and the crisis webhook
(``bots.operators.webhook``).
"""

from __future__ import annotations

import logging
import re
from typing import Literal
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

# Query parameters whose values are hidden when a query is shown ("?password=...", "?token=...").
_SECRET_PARAM = re.compile(r"pass|pwd|secret|token|key|sig|auth|cred", re.IGNORECASE)
_PORT = re.compile(r"\d*")


def redact_url(
    url: str,
    *,
    credentials: Literal["mask", "drop"] = "mask",
    query: Literal["mask", "drop"] = "mask",
) -> str:
    """``url`` fit for a message or a log line.

    ``credentials="mask"`` keeps the user and replaces a password by ``***``
    (``redis://u:***@[::1]:6379/0``); ``"drop"`` removes ``user:password@`` altogether.
    ``query="mask"`` hides the values of query parameters whose names suggest a secret
    (``?password=***&db=1``); ``"drop"`` removes the query and the fragment, for URLs whose
    query may carry a token under any name (webhooks, Messages API servers).

    The host is kept as written (IPv6 brackets, port, case). A URL without ``scheme://`` is
    returned as it is. A password holding ``/``, ``?`` or ``#`` unencoded (which SQLAlchemy
    accepts) is still hidden: the user information then runs to the last ``@``.
    """
    if "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    userinfo, remainder = _split_userinfo(rest)
    if userinfo is None or credentials == "drop":
        shown_userinfo = ""
    else:
        user, colon, _ = userinfo.partition(":")
        shown_userinfo = f"{user}:***@" if colon else f"{user}@"
    if query == "drop":
        remainder = re.split(r"[?#]", remainder, maxsplit=1)[0]
    else:
        remainder = _mask_query(remainder)
    return f"{scheme}://{shown_userinfo}{remainder}"


def _split_userinfo(rest: str) -> tuple[str | None, str]:
    """``rest`` (what follows ``scheme://``) as its user information (None without) and the
    host with everything after it."""
    end = _authority_end(rest)
    authority = rest[:end]
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        return userinfo, host + rest[end:]
    # "user:pa/ss@host": the authority seems to end at the "/", but what follows the colon is
    # no port and an "@" comes later. Mask too much rather than show a password.
    _, colon, after = authority.partition(":")
    if colon and not authority.startswith("[") and not _PORT.fullmatch(after) and "@" in rest:
        userinfo, _, remainder = rest.rpartition("@")
        return userinfo, remainder
    return None, rest


def _authority_end(rest: str) -> int:
    ends = [index for index in (rest.find(char) for char in "/?#") if index >= 0]
    return min(ends, default=len(rest))


def _mask_query(remainder: str) -> str:
    start = remainder.find("?")
    if start < 0:
        return remainder
    end = remainder.find("#", start)
    end = len(remainder) if end < 0 else end
    params = [_mask_param(param) for param in remainder[start + 1 : end].split("&")]
    return remainder[: start + 1] + "&".join(params) + remainder[end:]


def _mask_param(param: str) -> str:
    name, equals, _ = param.partition("=")
    return f"{name}=***" if equals and _SECRET_PARAM.search(unquote(name)) else param


def check_http_url(url: str, what: str = "the url") -> SplitResult:
    """``url`` split, once it is sure to be ``http(s)://host[:port]...``; else ValueError,
    whose message never quotes the URL (it may hold credentials or a token)."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"{what} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must start with http:// or https:// and name a host")
    return parts


def split_credentials(parts: SplitResult) -> tuple[str, tuple[str, str] | None]:
    """The URL without ``user:password@`` and fragment, and the credentials (decoded) for
    basic auth: HTTP clients log the URLs they request."""
    host = parts.netloc.rpartition("@")[2]
    url = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    if parts.username is None and parts.password is None:
        return url, None
    return url, (unquote(parts.username or ""), unquote(parts.password or ""))


class _ShownUrls(logging.Filter):
    """Replaces chosen URLs among a logger's record arguments by what may be shown: HTTP
    clients log each request's whole URL (query included) at INFO."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: dict[str, str] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if self.urls and isinstance(record.args, tuple):
            record.args = tuple(
                arg if isinstance(arg, int | float) else self.urls.get(str(arg), arg)
                for arg in record.args
            )
        return True


_SHOWN_URLS = _ShownUrls()


def hide_in_logs(logger_name: str, url: str, shown: str) -> None:
    """From now on, ``url`` among the arguments of ``logger_name``'s records reads ``shown``.
    ``url`` must be spelt as the client prints it (``str(httpx2.URL(url))``)."""
    _SHOWN_URLS.urls[url] = shown
    logger = logging.getLogger(logger_name)
    if _SHOWN_URLS not in logger.filters:
        logger.addFilter(_SHOWN_URLS)
