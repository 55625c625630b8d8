"""A local web for tests: a threaded HTTP server on 127.0.0.1 and realistic pages to serve.

`LocalWeb` serves `Reply`s registered per path (or computed from the request, for
conditional GETs and changing feeds) and records every request it receives. The page
builders produce news-article HTML wrapped in the usual boilerplate: navigation, cookie
banner, share bar, ad slots, byline/bio box, "follow us" box, related articles, comments.
"""

from __future__ import annotations

import contextlib
import html
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

SEED_ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "seed-article.txt"
SEED_TITLE = "Huawei, soon to be the Chinese emperor of AI chips ?"


@dataclass(frozen=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Reply:
    """What the server answers: status, headers and body, optionally slow or unsized.

    `delay` waits before the status line; `sized=False` sends no Content-Length and writes
    the body in chunks until the connection closes.
    """

    body: bytes | str = b""
    status: int = 200
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    sized: bool = True

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


Route = Reply | Callable[[Request], Reply]


class LocalWeb:
    """A ThreadingHTTPServer on 127.0.0.1 (random port), used as a context manager."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, path: str, reply: Route) -> str:
        """Serve `reply` at `path` (query strings are ignored when matching); return its URL."""
        self.routes[path] = reply
        return self.url(path)

    def reply_for(self, request: Request) -> Reply:
        route = self.routes.get(urlsplit(request.path).path)
        if route is None:
            return Reply("<html><body><h1>Not Found</h1></body></html>", status=404)
        return route(request) if callable(route) else route

    def __enter__(self) -> LocalWeb:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler_for(web: LocalWeb) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            request = Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()})
            web.requests.append(request)
            # the client may give up (page too large, timed out): expected in tests
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(web.reply_for(request))

        def _send(self, reply: Reply) -> None:
            time.sleep(reply.delay)
            body = reply.payload()
            self.send_response(reply.status)
            if reply.content_type:
                self.send_header("Content-Type", reply.content_type)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if reply.sized:
                self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            for start in range(0, len(body), 64 * 1024):
                self.wfile.write(body[start : start + 64 * 1024])

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


# --- realistic pages -----------------------------------------------------------------------

NAV = """
<header class="site-header">
  <a class="logo" href="/">The Daily Example</a>
  <nav class="main-menu"><ul>
    <li><a href="/world">World</a></li><li><a href="/business">Business</a></li>
    <li><a href="/tech">Tech</a></li><li><a href="/sport">Sport</a></li>
    <li><a href="/subscribe">Subscribe</a></li>
  </ul></nav>
</header>
<div id="cookie-banner" class="cookie-consent" role="dialog">
  <p>We use cookies to improve your experience and to show personalised ads.
  By continuing to browse you accept our cookie policy.</p>
  <button>Accept all cookies</button><button>Manage preferences</button>
</div>
"""

SHARE_BAR = """
<div class="share-buttons social-share">
  <span class="share-title">Spread the love</span>
  <a class="share-facebook" href="https://facebook.com/sharer">Share on Facebook</a>
  <a class="share-twitter" href="https://twitter.com/intent/tweet">Share on X</a>
  <a class="share-whatsapp" href="https://wa.me/">Share on WhatsApp</a>
</div>
"""

AD_SLOT = """
<div class="ad-slot advertisement" data-ad-unit="in-article">
  <span class="ad-label">Advertisement</span>
  <a href="https://casino.example/bonus" rel="sponsored nofollow">
    <p>200% Deposit Bonus up to €3,000</p><p>180% First Deposit Bonus up to $20,000</p>
  </a>
</div>
"""

FOLLOW_US = """
<div class="follow-us-box newsletter-cta">
  <p>📍 To not miss any news from Presse-citron, follow us on
  <a href="https://news.google.com/publications/x">Google News</a> and
  <a href="https://whatsapp.com/channel/x">WhatsApp</a>.</p>
</div>
"""

RELATED = """
<aside class="related-articles">
  <h3>Related articles</h3>
  <ul>
    <li><a href="/tech/nvidia-h20">NVIDIA's H20 chip sales soar despite export curbs</a></li>
    <li><a href="/tech/smic-7nm">SMIC's 7 nm process: what we know so far</a></li>
    <li><a href="/tech/baidu-kunlun">Baidu bets on its own Kunlun accelerators</a></li>
  </ul>
</aside>
"""

COMMENTS = """
<section id="comments" class="comments-area">
  <h3>3 comments</h3>
  <ol class="comment-list">
    <li class="comment"><div class="comment-author">chipfan42</div>
      <div class="comment-content"><p>Totally predictable, the sanctions backfired badly.</p>
      </div></li>
    <li class="comment"><div class="comment-author">dave_r</div>
      <div class="comment-content"><p>I will believe it when I see the benchmarks.</p>
      </div></li>
  </ol>
  <form class="comment-form"><textarea name="comment"></textarea>
    <button>Post comment</button></form>
</section>
"""

FOOTER = """
<footer class="site-footer">
  <p>© 2024 The Daily Example. All rights reserved.</p>
  <a href="/privacy">Privacy policy</a> <a href="/terms">Terms of use</a>
</footer>
"""


def seed_story() -> tuple[list[str], list[str]]:
    """The story paragraphs and summary bullets of the seed article, without its boilerplate.

    The seed text holds a share label, a photo credit, an ad, a "follow us" line and a
    reporter bio around the story; those go into their own elements in `seed_article_page`.
    """
    lines = [line.strip() for line in SEED_ARTICLE.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    start = next(i for i, line in enumerate(lines) if line.startswith("In China, the race"))
    end = next(i for i, line in enumerate(lines) if line.startswith("📍"))
    story = [line for line in lines[start:end] if "Deposit Bonus" not in line]
    paragraphs = [line for line in story if not line.startswith("•")]
    bullets = [line.lstrip("• ").strip() for line in story if line.startswith("•")]
    return paragraphs, bullets


def _paragraph_html(text: str) -> str:
    heading = len(text) < 60 and not text.endswith(".")
    tag = "h2" if heading else "p"
    return f"<{tag}>{html.escape(text)}</{tag}>"


def seed_article_page() -> str:
    """The seed article as a WordPress-style news page, boilerplate in its own elements."""
    paragraphs, bullets = seed_story()
    first, rest = paragraphs[:4], paragraphs[4:]
    body = "\n".join(_paragraph_html(p) for p in first)
    body += AD_SLOT
    body += "\n".join(_paragraph_html(p) for p in rest)
    body += '<ul class="key-points">' + "".join(f"<li>{html.escape(b)}</li>" for b in bullets)
    body += "</ul>"
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<title>{html.escape(SEED_TITLE)} - Presse-citron</title>
<meta name="description" content="Huawei wants to supply Chinese firms with inference chips.">
<meta property="og:type" content="article">
<meta property="og:title" content="{html.escape(SEED_TITLE)}">
<meta property="og:site_name" content="Presse-citron">
<meta property="article:published_time" content="2024-07-01T09:30:00+02:00">
<meta name="author" content="Teilor Stone">
<link rel="canonical" href="/en/huawei-chinese-emperor-ai-chips/?utm_source=rss">
<script type="application/ld+json">
{{"@context": "https://schema.org", "@type": "NewsArticle",
  "headline": "{SEED_TITLE}",
  "datePublished": "2024-07-01T09:30:00+02:00",
  "author": {{"@type": "Person", "name": "Teilor Stone"}},
  "publisher": {{"@type": "Organization", "name": "Presse-citron"}}}}
</script>
</head>
<body class="single single-post">
{NAV}
<main id="main" class="site-main">
<article class="post type-post">
  <header class="entry-header">
    {SHARE_BAR}
    <h1 class="entry-title">{html.escape(SEED_TITLE)}</h1>
    <div class="entry-meta"><span class="byline">By <a href="/author/teilor">Teilor Stone</a>
    </span> · <time datetime="2024-07-01T09:30:00+02:00">July 1, 2024</time></div>
  </header>
  <figure class="wp-block-image featured-image">
    <img src="/img/huawei.jpg" alt="Huawei logo">
    <figcaption class="wp-caption-text">© Steven McDowell/Shutterstock.com</figcaption>
  </figure>
  <div class="entry-content">
{body}
  </div>
  {FOLLOW_US}
  <div class="author-box author-bio">
    <img class="avatar" src="/img/teilor.jpg" alt="Teilor Stone">
    <div class="author-name">By Teilor Stone</div>
    <p class="author-description">Teilor Stone has been a reporter on the news desk since 2013.
    Before that she wrote about young adolescence and family dynamics for Styles and was the
    legal affairs correspondent for the Metro desk. To get in touch, contact me through my
    teilor@nizhtimes.com</p>
  </div>
</article>
{RELATED}
{COMMENTS}
</main>
{FOOTER}
</body>
</html>"""


def article_page(
    *,
    title: str,
    paragraphs: list[str],
    head: str = "",
    lang: str | None = "en",
    byline: str = "",
) -> str:
    """A generic news page: `paragraphs` are the story, `head` extra tags for <head>."""
    lang_attr = f' lang="{lang}"' if lang else ""
    story = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html{lang_attr}>
<head><meta charset="utf-8"><title>{html.escape(title)} | The Daily Example</title>
{head}
</head>
<body>
{NAV}
<main><article>
  <h1>{html.escape(title)}</h1>
  {byline}
  {SHARE_BAR}
  <div class="article-body">
{story}
  </div>
  {AD_SLOT}
</article>
{RELATED}
{COMMENTS}
</main>
{FOOTER}
</body></html>"""


COUNCIL_STORY = [
    "The city council voted on Tuesday evening to approve the construction of a new "
    "footbridge over the river Wye, ending a debate that had lasted almost four years.",
    "The bridge, which will link the old market square to the railway station, is expected "
    "to cost 12 million pounds and will be funded partly by a national infrastructure grant.",
    "Councillor Maria Okafor, who chairs the transport committee, said the decision would "
    "cut the walk between the two districts from twenty minutes to five.",
    "Engineers said construction would start in the spring and take about two years, with "
    "the river kept open to boats throughout the works.",
]
