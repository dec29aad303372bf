"""Checks an answer from the EWS endpoint before exchangelib parses it, so a server (or a proxy,
firewall or login portal in between) that answers with something other than EWS gets a message
that says what it sent, instead of exchangelib's "No Body element in SOAP response".

exchangelib parses with lxml in *recover* mode: an HTML page or a cut-off document becomes "some
XML without a SOAP Body", and the body itself is gone by the time the exception is raised. So the
check runs as a requests response hook on every session of our protocol, where the body is still
at hand. It also caps the size of a (non-streaming) answer: requests would otherwise read a body of
any size into memory, and lxml would build a tree of it.

`UnusableAnswer` derives from exchangelib's `TransportError` so that code written for transport
failures still treats it as one; exchangelib re-raises it unchanged (it is not a connection error).

The hook also reads a 503 or 429 answer's `Retry-After` (seconds or an HTTP date), which exchangelib
ignores when it does not retry itself: `ServerAskedToWait` carries how long the server asked for.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import lxml.etree
import requests
from exchangelib.errors import TransportError

# The largest answer the app asks for is a page of SyncFolderItems/GetItem with at most a few hundred
# calendar items (bodies included): a few MB. 32 MB leaves room for long bodies and refuses junk.
MAX_ANSWER_BYTES = 32 * 1024 * 1024

SOAP_ENVELOPE = "{http://schemas.xmlsoap.org/soap/envelope/}Envelope"
SOAP_BODY = "{http://schemas.xmlsoap.org/soap/envelope/}Body"

_ADVICE = ("Check that the EWS URL is the server's EWS endpoint (https://…/EWS/Exchange.asmx), and ask the "
           "Exchange admin")


class AnswerProblem(enum.Enum):
    TOO_LARGE = "too-large"
    EMPTY = "empty"
    HTML = "html"
    NOT_XML = "not-xml"
    INVALID_XML = "invalid-xml"
    NOT_SOAP = "not-soap"
    EMPTY_SOAP = "empty-soap"


class UnusableAnswer(TransportError):
    """The EWS endpoint answered HTTP 200 with something that is not an EWS SOAP message."""

    def __init__(self, problem: AnswerProblem, url: str, message: str) -> None:
        super().__init__(message)
        self.problem = problem
        self.url = url
        self.message = message


class ServerAskedToWait(TransportError):
    """The server (or its front end) answered 503 or 429 with a Retry-After: nothing was carried out."""

    def __init__(self, url: str, status: int, seconds: float) -> None:
        reason = "is unavailable (HTTP 503)" if status == 503 else "is receiving too many requests (HTTP 429)"
        super().__init__(f"The server at {url} {reason} and asked us to wait {seconds:.0f} s before trying again.")
        self.url = url
        self.status = status
        self.seconds = seconds


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header's wait in seconds (RFC 9110: delta-seconds or an HTTP date; a date in the
    past is 0), or None when there is no header or it cannot be read."""
    text = (header or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def check_answer(response: requests.Response, *args: Any, stream: bool = False, **kwargs: Any) -> requests.Response:
    """A requests response hook. Streaming answers (GetStreamingEvents) are read by exchangelib as
    they arrive and are left alone; other answers are read here, at most MAX_ANSWER_BYTES of them."""
    if stream:
        return response
    url = _plain_url(response.url)
    if response.status_code in (429, 503):
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if wait is not None:
            response.close()
            raise ServerAskedToWait(url, response.status_code, wait)
    body = _bounded_body(response, url, MAX_ANSWER_BYTES)
    if response.status_code == 200:  # errors (401, 500 with a SOAP fault, redirects) are exchangelib's
        problem = _problem_with(body, response.headers.get("Content-Type", ""), url)
        if problem is not None:
            raise problem
    return response


def _bounded_body(response: requests.Response, url: str, max_bytes: int) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise _too_large(url, max_bytes, f"it announced {int(declared) / 1024 / 1024:.0f} MB")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=256 * 1024):
        size += len(chunk)
        if size > max_bytes:
            response.close()
            raise _too_large(url, max_bytes, "it kept sending")
        chunks.append(chunk)
    body = b"".join(chunks)
    # requests keeps a body it has read in these two attributes; setting them is how the bytes read
    # here become `response.content` for exchangelib (requests would otherwise try to read them again).
    response._content = body
    response._content_consumed = True  # type: ignore[attr-defined]  # set in __init__, absent from the stubs
    return body


def _too_large(url: str, max_bytes: int, how: str) -> UnusableAnswer:
    megabytes = max_bytes // (1024 * 1024)
    return UnusableAnswer(
        AnswerProblem.TOO_LARGE, url,
        f"The server at {url} sent an answer larger than {megabytes} MB ({how}) and it was refused: no EWS "
        f"answer the app asks for is that large. {_ADVICE} whether something between this computer and "
        "Exchange (a proxy or gateway) alters the answers.")


def _problem_with(body: bytes, content_type: str, url: str) -> UnusableAnswer | None:
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")  # a UTF-8 byte order mark and white space may precede XML
    if not text:
        return UnusableAnswer(
            AnswerProblem.EMPTY, url,
            f"The server at {url} sent an empty answer (HTTP 200 with no content) instead of an EWS SOAP "
            f"response. {_ADVICE} whether EWS is enabled on that virtual directory.")
    head = text[:512].lower()
    if "html" in content_type.lower() or head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        title = _html_title(text)
        page = f"an HTML page titled {title!r}" if title else "an HTML page"
        return UnusableAnswer(
            AnswerProblem.HTML, url,
            f"The server at {url} answered with something that is not an EWS SOAP response ({page}: a proxy, "
            "firewall or login portal in the way, or a URL that points at a web page such as Outlook on the web). "
            f"Open the URL in a browser to see the page. {_ADVICE} for the EWS URL.")
    if not text.startswith(b"<"):
        return UnusableAnswer(
            AnswerProblem.NOT_XML, url,
            f"The server at {url} answered with data that is not XML ({_describe(text)}) instead of an EWS SOAP "
            f"response: the URL or its port may lead to another service. {_ADVICE} for the EWS URL.")
    # as exchangelib parses, minus its recovery: huge_tree for long item bodies (the size is capped above)
    parser = lxml.etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = lxml.etree.fromstring(text, parser)
    except lxml.etree.XMLSyntaxError as error:
        return UnusableAnswer(
            AnswerProblem.INVALID_XML, url,
            f"The server at {url} answered with invalid XML ({_syntax_error(error)}) instead of an EWS SOAP "
            "response: the answer was cut off or corrupted on the way. Try again; if it keeps happening, ask "
            "the Exchange admin to check the server and any proxy between this computer and Exchange.")
    if root.tag != SOAP_ENVELOPE or root.find(SOAP_BODY) is None:
        return UnusableAnswer(
            AnswerProblem.NOT_SOAP, url,
            f"The server at {url} answered with XML that is not an EWS SOAP response (its root element is "
            f"<{_local_name(root.tag)}>, not a SOAP Envelope with a Body). {_ADVICE} for the EWS URL.")
    if len(root.find(SOAP_BODY)) == 0:
        return UnusableAnswer(
            AnswerProblem.EMPTY_SOAP, url,
            f"The server at {url} answered with an empty SOAP envelope: no EWS answer and no error inside. "
            "This is not how Exchange answers; ask the Exchange admin to check the server and any proxy or "
            "gateway that rewrites the answers.")
    return None


def _html_title(text: bytes) -> str:
    found = re.search(rb"<title[^>]*>(.*?)</title>", text[:65536], re.IGNORECASE | re.DOTALL)
    if found is None:
        heading = re.search(rb"<h1[^>]*>(.*?)</h1>", text[:65536], re.IGNORECASE | re.DOTALL)
        found = heading
    if found is None:
        return ""
    words = re.sub(rb"<[^>]+>", b" ", found.group(1)).decode("utf-8", errors="replace").split()
    return " ".join(words)[:80]


def _describe(text: bytes) -> str:
    sample = text[:64]
    printable = sum(32 <= byte < 127 or byte in (9, 10, 13) for byte in sample)
    if printable < len(sample) * 0.9:
        return f"{len(text)} bytes of binary data"
    first_line = sample.decode("ascii", errors="replace").splitlines()[0].strip()
    return f"text starting {first_line[:40]!r}"


def _syntax_error(error: lxml.etree.XMLSyntaxError) -> str:
    message = str(error.msg or error).split(",")[0].strip().rstrip(".")
    line = error.lineno or (error.position[0] if error.position else 0)
    return f"{message}, line {line}" if line else message


def _local_name(tag: Any) -> str:
    return str(tag).rsplit("}", 1)[-1] if isinstance(tag, str) else "?"


def _plain_url(url: str | None) -> str:
    """The URL without a query or credentials, for a message."""
    text = str(url or "the EWS URL")
    text = re.sub(r"//[^/@]*@", "//", text)
    return text.split("?", 1)[0]
