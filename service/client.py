"""A small Python client for the review API, over HTTP with a bearer token.

Standard library only, so scripts and the `factcheck` reviewer commands can use it without
extra dependencies::

    client = FactcheckClient("http://127.0.0.1:8000", token)
    for claim in client.iter_queue(type="quantity", min_score=0.8):
        ...

Every non-2xx answer raises `ApiError` carrying the problem+json `status`, `title`, `detail`
and `errors`. Updates read the entity's ETag and send it as If-Match; a 412 means someone
changed it meanwhile and is raised, never retried over their change.

For webhook receivers, `verify_webhook(secret, headers, body)` checks a delivery's signature
and freshness and returns its event (raising `WebhookRejected`); see `service.webhook_signing`.
"""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

# Re-exported for webhook receivers (the explicit `as` form marks them public).
from service.webhook_signing import WebhookRejected as WebhookRejected
from service.webhook_signing import verify_webhook as verify_webhook

API_PATH = "/api/v1"
DEFAULT_CONTEXT = 160


class ApiError(Exception):
    """The service refused a request; carries its problem+json members."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: Mapping[str, list[str]] | None = None,
        body: Any = None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = dict(errors or {})
        self.body = body
        super().__init__(self.message())

    def message(self) -> str:
        """One readable line: status, title, detail and field errors."""
        text = f"{self.status} {self.title}" if self.status else self.title
        if self.detail:
            text += f": {self.detail}"
        for name, messages in self.errors.items():
            text += f"; {name}: {' '.join(messages)}"
        return text


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """The API never redirects; following one would send the bearer token wherever the
    redirect points. A 3xx is raised as an HTTPError instead."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_RefuseRedirects)


def open_url(request: urllib.request.Request, timeout: float) -> Any:
    """urlopen without following redirects (the request carries a token)."""
    return _OPENER.open(request, timeout=timeout)


def redirect_error(url: str, error: urllib.error.HTTPError) -> ApiError:
    """A readable refusal of a redirect: where it pointed, and what to do."""
    location = error.headers.get("Location", "?")
    return ApiError(
        error.code,
        "Redirect not followed",
        f"{url} redirected to {location}; redirects are not followed, so the token is never "
        "sent elsewhere: use the service's own address as the URL",
    )


class ConnectionFailed(ApiError):
    """The service could not be reached (no HTTP status)."""

    def __init__(self, url: str, reason: object) -> None:
        super().__init__(0, "Service unreachable", f"{url}: {reason}")


@dataclass(frozen=True)
class ClaimContext:
    """A claim with the article text around its span."""

    claim: dict[str, Any]
    article: dict[str, Any]
    before: str
    text: str
    after: str
    etag: str | None = None


@dataclass
class Evidence:
    url: str
    stance: str = "context"
    title: str | None = None
    publisher: str | None = None
    excerpt: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        shown = {"url": self.url, "stance": self.stance}
        for name in ("title", "publisher", "excerpt"):
            if getattr(self, name) is not None:
                shown[name] = getattr(self, name)
        return {**shown, **self.extra}


class FactcheckClient:
    """The review API: submitting, the queue, claims, verdicts, publishing, CSV export."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 30.0) -> None:
        if not token:
            raise ValueError("an API token is required")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def __repr__(self) -> str:  # never show the token
        return f"FactcheckClient({self.base_url!r})"

    # -- transport ---------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, Any] | None = None) -> str:
        url = self.base_url + API_PATH + path
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        return url + ("?" + urllib.parse.urlencode(query) if query else "")

    def _open(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        url = self._url(path, params)
        sent = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        request = urllib.request.Request(url, data=data, headers=sent, method=method)  # noqa: S310
        try:
            response: http.client.HTTPResponse = open_url(request, self.timeout)
        except urllib.error.HTTPError as error:
            with error:  # closes its connection
                if 300 <= error.code < 400:
                    raise redirect_error(url, error) from None
                raise _api_error(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ConnectionFailed(self.base_url, reason) from None
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, str | None]:
        """The decoded JSON body and the ETag header, if any."""
        with self._open(method, path, **kwargs) as response:
            return json.load(response), response.headers.get("ETag")

    # -- articles ----------------------------------------------------------------------------

    def submit_article(self, article: Mapping[str, Any]) -> dict[str, Any]:
        """Submit an article (the API's fields); "created" is False when the same (source,
        external_id) was submitted before and the existing article came back."""
        with self._open("POST", "/articles", body=dict(article)) as response:
            submitted: dict[str, Any] = json.load(response)
            return {**submitted, "created": response.status == 202}

    # -- the queue and claims ----------------------------------------------------------------

    def queue_page(self, *, cursor: str | None = None, **filters: Any) -> dict[str, Any]:
        """One page of the review queue: {"items": [...], "next_cursor": ...}.

        Filters are the API's query parameters: status, checkworthy, min_score, type,
        assignee, article, source, created_after, created_before, q, sort, limit.
        """
        page, _ = self._json("GET", "/claims", params={**filters, "cursor": cursor})
        result: dict[str, Any] = page
        return result

    def iter_queue(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every claim the filters select, following `next_cursor` page by page."""
        cursor = None
        while True:
            page = self.queue_page(cursor=cursor, **filters)
            yield from page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return

    def get_claim(self, claim_id: int) -> dict[str, Any]:
        """A claim with its verdicts, evidence and agreement; "etag" holds its ETag."""
        claim, tag = self._json("GET", f"/claims/{claim_id}")
        return {**claim, "etag": tag}

    def get_article(self, article_id: int) -> dict[str, Any]:
        article, _ = self._json("GET", f"/articles/{article_id}")
        result: dict[str, Any] = article
        return result

    def claim_context(self, claim_id: int, width: int = DEFAULT_CONTEXT) -> ClaimContext:
        """The claim and up to `width` characters of article text on each side of its span."""
        claim = self.get_claim(claim_id)
        article = self.get_article(claim["article_id"])
        body: str = article["body"]
        start, end = claim["start"], claim["end"]
        if article.get("revision") != claim["revision"] or body[start:end] != claim["text"]:
            # An orphaned claim of an earlier revision: its stored context is all there is.
            before, after = claim.get("prefix", ""), claim.get("suffix", "")
        else:
            before, after = body[max(0, start - width) : start], body[end : end + width]
        return ClaimContext(claim, article, before, claim["text"], after, claim.get("etag"))

    def take_claim(self, claim_id: int) -> dict[str, Any]:
        """Assign the claim to yourself and start reviewing it."""
        claim, _ = self._json("POST", f"/claims/{claim_id}/take")
        result: dict[str, Any] = claim
        return result

    def update_claim(
        self, claim_id: int, changes: Mapping[str, Any], *, etag: str | None = None
    ) -> dict[str, Any]:
        """PATCH the claim at `etag` (read first when not given); 412 raises if it changed."""
        if etag is None:
            etag = self.get_claim(claim_id)["etag"]
        claim, tag = self._json(
            "PATCH", f"/claims/{claim_id}", body=dict(changes), headers={"If-Match": etag or ""}
        )
        return {**claim, "etag": tag}

    # -- verdicts ----------------------------------------------------------------------------

    def add_verdict(
        self,
        claim_id: int,
        rating: str,
        summary: str,
        *,
        evidence: Sequence[Evidence | Mapping[str, Any]] = (),
        rationale: str | None = None,
        confidence: float | None = None,
    ) -> dict[str, Any]:
        """Add your verdict on a claim, with evidence; returns it (with "etag")."""
        payload: dict[str, Any] = {
            "rating": rating,
            "summary": summary,
            "evidence": [e.payload() if isinstance(e, Evidence) else dict(e) for e in evidence],
        }
        if rationale is not None:
            payload["rationale"] = rationale
        if confidence is not None:
            payload["confidence"] = confidence
        verdict, tag = self._json("POST", f"/claims/{claim_id}/verdicts", body=payload)
        return {**verdict, "etag": tag}

    def get_verdict(self, verdict_id: int) -> dict[str, Any]:
        verdict, tag = self._json("GET", f"/verdicts/{verdict_id}")
        return {**verdict, "etag": tag}

    def update_verdict(
        self, verdict_id: int, changes: Mapping[str, Any], *, etag: str | None = None
    ) -> dict[str, Any]:
        """PATCH a proposed verdict at `etag` (read first when not given)."""
        if etag is None:
            etag = self.get_verdict(verdict_id)["etag"]
        verdict, tag = self._json(
            "PATCH",
            f"/verdicts/{verdict_id}",
            body=dict(changes),
            headers={"If-Match": etag or ""},
        )
        return {**verdict, "etag": tag}

    def publish_verdict(self, verdict_id: int) -> dict[str, Any]:
        """Publish a proposed verdict (editor and admin tokens only)."""
        verdict, tag = self._json("POST", f"/verdicts/{verdict_id}/publish")
        return {**verdict, "etag": tag}

    # -- export ------------------------------------------------------------------------------

    def export_claims(
        self,
        out: str | os.PathLike[str] | IO[str],
        *,
        progress: Callable[[int], None] | None = None,
        progress_every: int = 500,
        **filters: Any,
    ) -> int:
        """Stream the claims CSV into `out` (a path or a text file); returns the data rows.

        Rows are written as they arrive, so memory stays flat however large the export.
        `progress(rows_so_far)` is called every `progress_every` rows and at the end. A path
        is written through a temporary file and renamed, so a failed export leaves no file.
        """
        if isinstance(out, str | os.PathLike):
            target = Path(out)
            partial = target.with_name(target.name + ".part")
            try:
                with partial.open("w", encoding="utf-8", newline="") as handle:
                    rows = self._write_export(handle, progress, progress_every, filters)
                partial.replace(target)
            finally:
                partial.unlink(missing_ok=True)
            return rows
        return self._write_export(out, progress, progress_every, filters)

    def _write_export(
        self,
        handle: IO[str],
        progress: Callable[[int], None] | None,
        every: int,
        filters: Mapping[str, Any],
    ) -> int:
        with self._open("GET", "/exports/claims.csv", params=filters) as response:
            text = _text_lines(response)

            def copied() -> Iterator[str]:
                for line in text:
                    handle.write(line)
                    yield line

            # csv.reader counts records, not lines: a quoted cell may span several lines.
            records = sum(1 for _ in _tick(csv.reader(copied()), progress, every))
        rows = max(0, records - 1)
        if progress is not None:
            progress(rows)
        return rows


def _tick(
    records: Iterator[list[str]], progress: Callable[[int], None] | None, every: int
) -> Iterator[list[str]]:
    for count, record in enumerate(records):
        if progress is not None and count and count % every == 0:
            progress(count)  # data rows so far: the header is record 0
        yield record


def _text_lines(response: http.client.HTTPResponse) -> Iterator[str]:
    """Lines of a UTF-8 body with their own line endings kept (for csv and a faithful copy)."""
    yield from io.TextIOWrapper(response, encoding="utf-8", newline="")


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _api_error(error: urllib.error.HTTPError) -> ApiError:
    raw = error.read()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        text = raw.decode("utf-8", "replace").strip()[:500]
        return ApiError(error.code, str(error.reason), text or None, body=text)
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else None
    return ApiError(
        int(body.get("status", error.code)),
        str(body.get("title", error.reason)),
        body.get("detail"),
        errors,
        body,
    )
