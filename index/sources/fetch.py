"""Safe fetching of admin-supplied URLs, and the canonical form of a URL.

This module owns everything between a URL and its bytes: the SSRF guard (only http/https;
no loopback, private, link-local, shared, multicast, reserved or unspecified address, checked
on the resolved IPs at every redirect hop and again on the connected peer), redirects
followed by hand, timeouts, a size cap enforced while streaming, content-type checks, body
decoding, and `canonical_url`, which gives one origin to the variants of one story's URL.
Every failure is a `FetchError` whose message can be shown to the admin as is.
"""

from __future__ import annotations

import codecs
import ipaddress
import re
import socket
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import charset_normalizer
import httpx
from tld import get_fld

from index.sources.article import ArticleDraft
from index.sources.html import draft_from_html

USER_AGENT = "citebot/0.1 (+https://github.com/citebot)"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/xml", "text/xml"}
)

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_BLOCKED_HOSTS = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data"})
_BLOCKED_HOST_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".home.arpa")
_SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598

_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "mc_cid", "mc_eid", "ref", "ref_src", "ref_url", "referrer", "cmpid", "ocid",
        "igshid", "igsh", "_ga", "_gl", "mkt_tok", "s_cid", "spm", "at_medium",
        "at_campaign", "at_custom1", "at_custom2", "at_custom3", "at_custom4", "ito",
        "smid", "sr_share", "share", "amp",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "pk_", "hsa_", "__hs")
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.-]+)"""
    rb"""|<\?xml[^>]+encoding\s*=\s*["']([a-zA-Z0-9_.-]+)""",
    re.IGNORECASE,
)
# Labels that browsers read as windows-1252 (WHATWG Encoding): servers often say "latin-1".
_WINDOWS_1252_ALIASES = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii"})


class FetchError(Exception):
    """A URL could not be fetched or used; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Limits and policy for fetching. Timeouts in seconds, `max_bytes` of decoded body."""

    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 60.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    allowed_content_types: frozenset[str] = HTML_TYPES | FEED_TYPES
    user_agent: str = USER_AGENT
    allow_private: bool = False

    @classmethod
    def configured(cls, *, allow_private: bool = False, timeout: float | None = None
                   ) -> FetchSettings:
        """Defaults, with private addresses allowed or not and, when `timeout` is given,
        that many seconds to connect and to read (`CITEBOT_ALLOW_PRIVATE_URLS` and
        `CITEBOT_FETCH_TIMEOUT`, read by `index.settings`)."""
        settings = cls(allow_private=allow_private)
        if timeout is not None:
            settings = replace(settings, connect_timeout=timeout, read_timeout=timeout)
        return settings


@dataclass(frozen=True, slots=True)
class FetchedPage:
    """A fetched response: `url` is the final URL after redirects; a 304 has empty content.

    `headers` has lower-case names; `content_type` is the bare media type ("text/html").
    """

    url: str
    status: int
    content_type: str
    headers: Mapping[str, str]
    content: bytes
    requested_url: str
    redirects: tuple[str, ...] = ()

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def charset(self) -> str | None:
        """The charset the Content-Type header declares, if any."""
        return _header_charset(self.headers.get("content-type", ""))

    @property
    def text(self) -> str:
        """The body decoded: header charset, else BOM, else <meta>/XML declaration, else guess."""
        return decode_body(self.content, self.charset)


# --- public API ----------------------------------------------------------------------------


def fetch_url(
    url: str,
    *,
    settings: FetchSettings,
    headers: Mapping[str, str] | None = None,
    accept: Collection[str] | None = None,
) -> FetchedPage:
    """GET `url` safely, following up to `settings.max_redirects` redirects, each one checked.

    `headers` are sent with every hop (e.g. If-None-Match); `accept` narrows the allowed
    content types (default `settings.allowed_content_types`). A 304 is returned, not raised;
    any other non-2xx status, refused address, oversize body or bad type raises FetchError.
    """
    allowed = frozenset(accept) if accept is not None else settings.allowed_content_types
    requested = current = check_url(url)
    hops: list[str] = []
    deadline = time.monotonic() + settings.total_timeout
    with _client(settings, allowed, headers) as client:
        for _ in range(settings.max_redirects + 1):
            check_destination(current, settings)
            with _translate_errors(current, settings), client.stream("GET", current) as response:
                _check_peer(response, settings)
                location = _redirect_target(response, current)
                if location is None:
                    return FetchedPage(
                        url=current,
                        status=response.status_code,
                        content_type=_media_type(response.headers.get("content-type", "")),
                        headers={name.lower(): value for name, value in response.headers.items()},
                        content=_read_body(response, allowed, settings, deadline),
                        requested_url=requested,
                        redirects=tuple(hops),
                    )
            hops.append(current)
            current = location
    raise FetchError(f"too many redirects (more than {settings.max_redirects})")


def fetch_article(url: str, *, settings: FetchSettings) -> ArticleDraft:
    """Fetch an HTML page and extract its article; origin is the canonical URL of the story.

    The page's own `<link rel="canonical">` names the story when it is on the same site as
    the page (a page cannot claim another site's story); otherwise the final URL does.
    """
    page = fetch_url(url, settings=settings, accept=HTML_TYPES)
    draft = draft_from_html(page.text, origin=canonical_url(page.url), url=page.url)
    if draft is None:
        raise FetchError(f"no article text found at {page.url}")
    declared = draft.url if draft.url and same_site(draft.url, page.url) else page.url
    draft.url = declared
    draft.origin = canonical_url(declared)
    return draft


def canonical_url(url: str) -> str:
    """The one form of `url` that its variants share: https, lower-case host, no default port,
    no fragment, no tracking or AMP markers, sorted query, no trailing slash (except root)."""
    parts = urlsplit(check_url(url))
    host = _canonical_host(parts.hostname or "")
    port = parts.port if parts.port not in (None, 80, 443) else None
    netloc = _netloc(host, port)
    path = _canonical_path(parts.path)
    query = _canonical_query(parts.query)
    return urlunsplit(("https", netloc, path, query, ""))


def check_url(url: str) -> str:
    """`url` stripped, if it is an absolute http(s) URL with a host; else FetchError."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        scheme = parts.scheme or "no scheme"
        raise FetchError(f"refused: only http and https URLs can be fetched ({scheme})")
    if not hostname:
        raise FetchError(f"invalid URL {url!r}: no host")
    return url


def check_destination(url: str, settings: FetchSettings) -> None:
    """Refuse `url` unless its host name and every address it resolves to are public.

    Does nothing when `settings.allow_private` is on.
    """
    if settings.allow_private:
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    if host in _BLOCKED_HOSTS or host.endswith(_BLOCKED_HOST_SUFFIXES):
        raise FetchError(f"refused: {host} is a local or internal host name")
    for address in resolve(host, parts.port or (443 if parts.scheme == "https" else 80)):
        kind = address_refusal(address)
        if kind and host == str(address):
            raise FetchError(f"refused: {address} is {kind}")
        if kind:
            raise FetchError(f"refused: {host} resolves to {address}, {kind}")


def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every IP address `host` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host}: {exc}") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def address_refusal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why `address` must not be fetched from ("a loopback address"), or None if public."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    checks = (
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_unspecified, "an unspecified address"),
        (address in _SHARED_ADDRESS_SPACE, "a shared (carrier-grade NAT) address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((kind for refused, kind in checks if refused), None)


def same_site(a: str, b: str) -> bool:
    """Whether two URLs belong to one site: the same registrable domain (or the same host)."""
    site_a, site_b = _site(a), _site(b)
    return site_a is not None and site_a == site_b


def decode_body(content: bytes, charset: str | None = None) -> str:
    """Bytes to text: `charset` if valid, else BOM, else the document's own declaration,
    else charset-normalizer's guess."""
    for candidate in (charset, _bom_charset(content), _declared_charset(content)):
        encoding = _usable_encoding(candidate)
        if encoding:
            return content.decode(encoding, errors="replace")
    best = charset_normalizer.from_bytes(content[:200_000]).best()
    encoding = best.encoding if best else "utf-8"
    return content.decode(encoding, errors="replace")


# --- fetching ------------------------------------------------------------------------------


def _client(
    settings: FetchSettings, allowed: frozenset[str], headers: Mapping[str, str] | None
) -> httpx.Client:
    timeout = httpx.Timeout(
        connect=settings.connect_timeout,
        read=settings.read_timeout,
        write=settings.read_timeout,
        pool=settings.connect_timeout,
    )
    accept = ", ".join(sorted(allowed)) + ", */*;q=0.1"
    base_headers = {"User-Agent": settings.user_agent, "Accept": accept, **(headers or {})}
    # trust_env=False: no proxy from the environment, so the peer checked is the real server.
    return httpx.Client(
        timeout=timeout, follow_redirects=False, headers=base_headers, trust_env=False
    )


@contextmanager
def _translate_errors(url: str, settings: FetchSettings) -> Iterator[None]:
    """Turn httpx's exceptions into FetchErrors with a plain message."""
    host = urlsplit(url).hostname
    try:
        yield
    except httpx.ConnectTimeout:
        raise FetchError(
            f"timed out after {settings.connect_timeout:g} s connecting to {host}"
        ) from None
    except httpx.TimeoutException:
        raise FetchError(f"timed out after {settings.read_timeout:g} s") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"could not connect to {host}: {exc}") from None
    except httpx.HTTPError as exc:
        raise FetchError(f"fetching {url} failed: {exc}") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid URL {url!r}: {exc}") from None


def _check_peer(response: httpx.Response, settings: FetchSettings) -> None:
    """Refuse the response if the socket actually went to a non-public address.

    Guards against DNS answers that change between our check and httpx's own lookup.
    """
    if settings.allow_private:
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return
    address = ipaddress.ip_address(str(peer[0]).split("%")[0])
    kind = address_refusal(address)
    if kind:
        raise FetchError(f"refused: connected to {address}, {kind}")


def _redirect_target(response: httpx.Response, current: str) -> str | None:
    """The absolute URL a redirect response points to, or None when it is no redirect."""
    location = response.headers.get("location")
    if response.status_code not in _REDIRECT_STATUSES or not location:
        return None
    return check_url(urljoin(current, location.strip()))


def _read_body(
    response: httpx.Response, allowed: frozenset[str], settings: FetchSettings, deadline: float
) -> bytes:
    """The body of a final (non-redirect) response: empty for a 304, else checked and capped."""
    status = response.status_code
    if status == 304:
        return b""
    if not 200 <= status < 300:
        raise FetchError(f"HTTP {status} {response.reason_phrase}".rstrip())
    _check_content_type(_media_type(response.headers.get("content-type", "")), allowed)
    return _read_capped(response, settings, deadline)


def _check_content_type(content_type: str, allowed: frozenset[str]) -> None:
    if content_type in allowed:
        return
    shown = content_type or "missing"
    if allowed <= HTML_TYPES:
        raise FetchError(f"not an HTML page (content-type {shown})")
    if allowed <= FEED_TYPES:
        raise FetchError(f"not an RSS or Atom feed (content-type {shown})")
    raise FetchError(f"unsupported content type {shown}")


def _read_capped(response: httpx.Response, settings: FetchSettings, deadline: float) -> bytes:
    """The (decompressed) body, refused as soon as it passes `max_bytes` or the deadline."""
    too_large = f"page too large (> {_human_size(settings.max_bytes)})"
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_bytes:
        raise FetchError(too_large)
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > settings.max_bytes:
            raise FetchError(too_large)
        if time.monotonic() > deadline:
            raise FetchError(f"timed out after {settings.total_timeout:g} s")
    return bytes(body)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _header_charset(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip(" \"'"):
            return value.strip(" \"'")
    return None


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale and size % scale == 0:
            return f"{size // scale} {unit}"
    return f"{size} bytes"


# --- sites ---------------------------------------------------------------------------------


def _site(url: str) -> str | None:
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if not host:
        return None
    domain = get_fld(f"http://{host}/", fail_silently=True)
    return str(domain) if domain else _canonical_host(host).removeprefix("www.")


# --- canonical URLs ------------------------------------------------------------------------


def _canonical_host(host: str) -> str:
    host = host.rstrip(".").lower()
    return host.removeprefix("amp.") if host.count(".") >= 2 else host


def _netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port else shown


def _canonical_path(path: str) -> str:
    segments = [segment for segment in path.split("/") if segment and segment.lower() != "amp"]
    if segments:
        last = segments[-1]
        last = re.sub(r"\.amp(\.html?)?$", lambda m: m.group(1) or "", last, flags=re.I)
        segments[-1] = last
    segments = [segment for segment in segments if segment]
    return "/" + "/".join(segments)


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs if not _is_tracking(key, value)]
    return urlencode(sorted(kept))


def _is_tracking(key: str, value: str) -> bool:
    key = key.lower()
    if key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES):
        return True
    return key == "outputtype" and value.lower() == "amp"


# --- decoding ------------------------------------------------------------------------------


def _bom_charset(content: bytes) -> str | None:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if content.startswith(bom):
            return encoding
    return None


def _declared_charset(content: bytes) -> str | None:
    match = _DECLARED_CHARSET.search(content[:4096])
    if not match:
        return None
    return (match.group(1) or match.group(2)).decode("ascii", errors="ignore")


def _usable_encoding(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    if label in _WINDOWS_1252_ALIASES:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


__all__ = [
    "FEED_TYPES",
    "HTML_TYPES",
    "USER_AGENT",
    "FetchError",
    "FetchSettings",
    "FetchedPage",
    "address_refusal",
    "canonical_url",
    "check_destination",
    "check_url",
    "decode_body",
    "fetch_article",
    "fetch_url",
    "same_site",
]
