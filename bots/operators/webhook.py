"""Crisis alerts over HTTP: a webhook for paging systems (an on-call pager, an incident
tool, a small relay of your own).

What the receiver gets: one ``POST`` per alert to the configured URL, with
``Content-Type: application/json``, ``User-Agent: soulchat-alerts`` and this JSON body::

    {
      "type": "soulchat.case",
      "event": "alert",               # alert, paged, claimed, released, resolved, human_requested
      "case_id": 42,
      "tier": 4,                      # 0-4, the crisis-risk tier
      "categories": ["suicide"],
      "locale": "zh-CN",
      "platform": "telegram",
      "opened_at": "2025-05-01T08:30:00Z",   # ISO 8601, UTC
      "age_s": 125,                   # seconds since opened_at when this attempt was sent
      "excerpt": "...",
      "operator": null,               # "telegram:1234" for claimed / released / resolved
      "outcome": null,                # for resolved
      "sent_at": "2025-05-01T08:32:05Z"
    }

The excerpt is minimal by design: a paging system is a third party that keeps what it
receives, so an alert carries only what an on-call person needs to decide to act (how urgent,
what kind, how long ago, a few words), and never the user's platform id or the conversation.
The operator reads the rest in the operator chat.

Delivery is at least once: timeouts, connection errors, 429 and 5xx are retried (``attempts``
in all, exponential backoff from ``backoff_s``; a ``Retry-After`` in seconds is honoured, at
most 30 s), so a receiver may see an alert twice and should deduplicate on
``(case_id, event)``. Each attempt is built and signed afresh (``sent_at``, ``age_s`` and the
timestamp change). Redirects are not followed (a 3xx is a failure), so a secret or credentials
never travel to another host.

Signatures: with a ``secret``, each request also carries ``X-SoulChat-Timestamp`` (unix
seconds) and ``X-SoulChat-Signature: sha256=<hex>``, the HMAC-SHA256 with the secret of the
bytes ``f"{timestamp}.".encode() + body``, where ``body`` is the exact request body as
received (verify before parsing it; re-serialised JSON will not match). The timestamp is
signed so that a receiver can reject replays: refuse requests whose timestamp is more than a
few minutes from its own clock. To verify::

    import hashlib, hmac, time

    def verify(secret: bytes, body: bytes, headers, tolerance_s: int = 300) -> bool:
        timestamp = headers.get("X-SoulChat-Timestamp", "")
        signature = headers.get("X-SoulChat-Signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > tolerance_s:
            return False
        signed = f"{timestamp}.".encode() + body
        expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, signature)

Credentials in the URL (``https://user:pass@host/hook``) are sent as basic auth; a query
string (``?token=...``) is sent as is.

What is logged: every failed attempt is one warning with the URL without credentials, query
or fragment (the path is kept, so keep secrets out of it), the case id, the event, and an HTTP
status or an exception's class. Never the body, the excerpt, the response, or the secret. The
``httpx2`` logger's own request lines ("HTTP Request: POST ...") are filtered to the same
redacted URL for webhook URLs.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx2

from soulchat.urls import check_http_url, hide_in_logs, redact_url, split_credentials

if TYPE_CHECKING:
    from types import TracebackType

    from bots.operators.alerts import Alert

log = logging.getLogger(__name__)

PAYLOAD_TYPE = "soulchat.case"
USER_AGENT = "soulchat-alerts"
SIGNATURE_HEADER = "X-SoulChat-Signature"
TIMESTAMP_HEADER = "X-SoulChat-Timestamp"
MAX_DELAY_S = 30.0

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class WebhookAlerter:
    """Posts alerts to one webhook URL (an ``AlertSink``); one connection pool per alerter.

    Use it from one event loop, and ``await aclose()`` (or ``async with``) when done.
    ``clock`` (an aware UTC ``datetime``; naive ones are taken as UTC) gives ``sent_at``,
    ``age_s`` and the signature timestamp.
    """

    def __init__(
        self,
        url: str,
        *,
        secret: str | None = None,
        timeout_s: float = 5.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        clock: Clock = _utc_now,
    ) -> None:
        parts = check_http_url(url, "the webhook url")
        if secret is not None and not secret:
            raise ValueError("the webhook secret is empty: pass None to send unsigned alerts")
        if timeout_s <= 0:
            raise ValueError(f"the webhook timeout must be positive, got {timeout_s}")
        if attempts < 1:
            raise ValueError(f"the webhook needs at least one attempt, got {attempts}")
        if backoff_s < 0:
            raise ValueError(f"the webhook backoff cannot be negative, got {backoff_s}")
        self.timeout_s = timeout_s
        self.attempts = attempts
        self.backoff_s = backoff_s
        self._secret = secret.encode() if secret is not None else None
        self._clock = clock
        self._target, credentials = split_credentials(parts)
        self._where = redact_url(self._target, credentials="drop", query="drop")
        if parts.query:  # the client logs each request's URL at INFO; the query may be a token
            hide_in_logs("httpx2", str(httpx2.URL(self._target)), self._where)
        self._client = httpx2.AsyncClient(
            auth=httpx2.BasicAuth(*credentials) if credentials else None,
            headers={"User-Agent": USER_AGENT},
            timeout=httpx2.Timeout(timeout_s),
            follow_redirects=False,  # a redirect would carry the secret to another host
        )

    def __repr__(self) -> str:
        return f"WebhookAlerter({self._where!r}, signed={self._secret is not None})"

    async def __aenter__(self) -> WebhookAlerter:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool; later ``send`` calls return False."""
        await self._client.aclose()

    # -- delivery ------------------------------------------------------------------------
    async def send(self, alert: Alert) -> bool:
        """POST ``alert``; True once the receiver answers 2xx. False when every attempt
        failed or the receiver refused it (another status: no retry); each failure is
        logged. Never raises, except on cancellation.

        With a secret, each attempt is signed: ``X-SoulChat-Timestamp`` (unix seconds) and
        ``X-SoulChat-Signature: sha256=<hex HMAC-SHA256 of f"{timestamp}.".encode() + body>``.
        The timestamp is part of the signed bytes so that a receiver can reject replays.
        """
        what = f"case {alert.case_id} ({alert.event})"
        for attempt in range(1, self.attempts + 1):
            if self._client.is_closed:
                log.warning(
                    "crisis webhook %s: %s not sent (the alerter is closed)", self._where, what
                )
                return False
            retry_after: str | None = None
            try:
                now = _as_utc(self._clock())
                body = self.body(alert, now)
                # The client's timeout bounds each phase (connect, each read); this, the sum.
                async with asyncio.timeout(self.timeout_s):
                    response = await self._client.post(
                        self._target, content=body, headers=self.headers(body, now)
                    )
            except (TimeoutError, httpx2.TimeoutException):
                problem, retryable = f"no answer within {self.timeout_s:g}s", True
            except httpx2.TransportError as exc:
                problem, retryable = type(exc).__name__, True
            except Exception as exc:
                problem, retryable = type(exc).__name__, False
            else:
                status = response.status_code
                if response.is_success:
                    if attempt > 1:
                        log.info(
                            "crisis webhook %s: %s delivered on attempt %d",
                            self._where,
                            what,
                            attempt,
                        )
                    return True
                problem = f"HTTP {status}"
                retryable = status == 429 or status >= 500
                retry_after = response.headers.get("Retry-After")
            if not retryable or attempt == self.attempts:
                log.warning(
                    "crisis webhook %s: %s not delivered (%s, attempt %d of %d); giving up",
                    self._where,
                    what,
                    problem,
                    attempt,
                    self.attempts,
                )
                return False
            delay = retry_delay(attempt, self.backoff_s, retry_after)
            log.warning(
                "crisis webhook %s: %s not delivered (%s, attempt %d of %d); retrying in %gs",
                self._where,
                what,
                problem,
                attempt,
                self.attempts,
                delay,
            )
            await asyncio.sleep(delay)
        return False  # not reached: the last attempt returns above

    def payload(self, alert: Alert, now: datetime) -> dict[str, Any]:
        """What the receiver gets for ``alert`` sent at ``now`` (see the module docstring)."""
        now = _as_utc(now)
        opened = _as_utc(alert.opened_at)
        return {
            "type": PAYLOAD_TYPE,
            "event": alert.event,
            "case_id": alert.case_id,
            "tier": alert.tier,
            "categories": list(alert.categories),
            "locale": alert.locale,
            "platform": alert.platform,
            "opened_at": _iso(opened),
            "age_s": max(0, int((now - opened).total_seconds())),
            "excerpt": alert.excerpt,
            "operator": alert.operator,
            "outcome": alert.outcome,
            "sent_at": _iso(now),
        }

    def body(self, alert: Alert, now: datetime) -> bytes:
        """The payload as the exact bytes sent (compact UTF-8 JSON)."""
        return json.dumps(
            self.payload(alert, now), ensure_ascii=False, separators=(",", ":")
        ).encode()

    def headers(self, body: bytes, now: datetime) -> dict[str, str]:
        """The request headers for ``body`` sent at ``now``: its content type and, with a
        secret, the timestamp and the signature."""
        headers = {"Content-Type": "application/json"}
        if self._secret is not None:
            timestamp = int(_as_utc(now).timestamp())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = "sha256=" + sign(self._secret, timestamp, body)
        return headers


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.".encode() + body`` with ``secret``."""
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def retry_delay(attempt: int, backoff_s: float, retry_after: str | None = None) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (from 1): the receiver's
    ``Retry-After`` when it is a number of seconds, else ``backoff_s`` doubled per attempt;
    at most ``MAX_DELAY_S`` either way."""
    if retry_after is not None and retry_after.strip().isdigit():
        return min(float(int(retry_after.strip())), MAX_DELAY_S)
    return min(backoff_s * 2 ** (attempt - 1), MAX_DELAY_S)


# -- time ------------------------------------------------------------------------------------
def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
