"""`bot.render`: Telegram HTML that Telegram accepts, split into messages of at most 4096.

Every rendered message is checked with the Bot API stand-in's HTML parser (a port of
Telegram's own), so "can't parse entities" or "message is too long" would fail here first.
"""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.render import (
    citation_callback_data,
    citation_html,
    citation_keyboard,
    clean_text,
    escape,
    parse_citation_callback,
    render_answer,
    render_article_list,
    render_citation,
    split_html,
)
from index.library import IngestReport, Progress
from index.qa.answer import HEDGE_NOTE, Answer, Citation
from index.storage import StoredArticle
from tests.telegram_standin import parse_html, utf16_len

MAX = 4096
PROPERTY = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def citation(n: int = 1, **changes: Any) -> Citation:
    fields: dict[str, Any] = {
        "n": n, "article_id": n, "passage_id": n, "title": "BMW drives record sales in Asia",
        "origin": "/srv/citebot/articles/bbc-bmw.txt", "url": None, "outlet": "BBC News",
        "author": None, "published_at": "2005-01-11T00:00:00+00:00", "quote": "Q",
        "start": 0, "end": 1, "score": 0.9, "also_reported_by": [], "spans": [],
    }
    fields.update(changes)
    return Citation(**fields)


def answer_with(text: str, citations: list[Citation]) -> Answer:
    return Answer(question="q", answer=text, abstained=not citations, citations=citations,
                  retrieved=[], timings_ms={})


def article(i: int, title: str, url: str | None = None) -> StoredArticle:
    return StoredArticle(
        id=i, origin=f"/data/a{i}.txt", url=url, title=title, outlet="Gazette", author=None,
        published_at=None, body="", story_id=i, ingested_at="2030-02-03T04:05:06+00:00",
        updated_at="2030-02-03T04:05:06+00:00",
    )


def styled_chars(message: str) -> list[tuple[str, frozenset[str]]]:
    """(character, entity types covering it) for each non-space character Telegram shows."""
    text, entities = parse_html(message)
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    styled = []
    for i, char in enumerate(text):
        if char.isspace():
            continue
        kinds = frozenset(
            e["type"] + e.get("url", "") for e in entities
            if e["offset"] <= offsets[i] < e["offset"] + e["length"]
            and e["type"] in ("bold", "italic", "blockquote", "text_link"))
        styled.append((char, kinds))
    return styled


def entity_texts(message: str, kind: str) -> list[str]:
    """The texts of the entities of type `kind` (offsets are in UTF-16 code units)."""
    text, entities = parse_html(message)
    units = text.encode("utf-16-le", "surrogatepass")
    return [units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in entities if e["type"] == kind]


def assert_valid_messages(parts: list[str], limit: int = MAX) -> None:
    assert parts, "at least one message"
    for part in parts:
        assert utf16_len(part) <= limit
        text, _ = parse_html(part)  # raises Telegram's error on bad HTML
        assert text.strip(), "no empty message"


# --------------------------------------------------------------------------------------
# Escaping, links, buttons
# --------------------------------------------------------------------------------------


def test_dynamic_text_is_escaped_and_only_web_urls_are_linked() -> None:
    nasty = citation(title="<script>alert('x')</script> & Co", outlet="A&B <i>",
                     url="javascript:alert(1)")
    message = render.answer_html(answer_with("Tom & Jerry <b>not bold</b> [1]", [nasty]))
    text, entities = parse_html(message)
    assert "Tom & Jerry <b>not bold</b> [1]" in text
    assert "[1] <script>alert('x')</script> & Co · A&B <i> · 2005-01-11" in text
    assert not [e for e in entities if e["type"] == "text_link"]

    linked = render.answer_html(answer_with("x [1]", [citation(
        url="https://example.com/a?b=1&c='2'\"")]))
    assert parse_html(linked)[1][1]["url"] == "https://example.com/a?b=1&c='2'\""


def test_control_characters_and_lone_surrogates_are_dropped() -> None:
    assert clean_text("a\x00b\x07c\r\nd\ud800e\tf") == "abc\nde\tf"
    assert escape(None) == ""


def test_citation_buttons_fit_telegrams_64_bytes_and_parse_back() -> None:
    data = citation_callback_data(10**17, 9999)
    assert len(data.encode()) <= 64
    assert parse_citation_callback(data) == (10**17, 9999)
    assert parse_citation_callback("c:1:x") is None
    assert parse_citation_callback(None) is None
    long_title = citation(2, title="An extremely long headline about everything " * 5)
    markup = citation_keyboard(7, [citation(1), long_title])
    assert markup is not None
    rows = markup.to_dict()["inline_keyboard"]
    assert [row[0]["callback_data"] for row in rows] == ["c:7:1", "c:7:2"]
    assert rows[1][0]["text"].startswith("[2] BBC News · An extremely")
    assert len(rows[1][0]["text"]) < 50
    assert citation_keyboard(7, []) is None


def test_a_citation_button_names_the_outlet_and_as_much_headline_as_fits() -> None:
    label = render.citation_button_label
    assert label(citation(1, outlet="Presse-citron", title="Huawei")) == (
        "[1] Presse-citron · Huawei")
    long_outlet = citation(3, title="A headline",
                           outlet="The Very Long Regional Evening Chronicle of Somewhere")
    assert label(long_outlet).startswith("[3] The Very Long") and "…" in label(long_outlet)
    assert label(citation(4, outlet=None, title="A short one")) == "[4] A short one"
    assert label(citation(5, outlet="BBC News", title="")) == "[5] BBC News"


def test_abstention_has_no_sources_section() -> None:
    (message,) = render_answer(answer_with("I couldn't find that in the articles I have.", []))
    assert message == "I couldn't find that in the articles I have."


# --------------------------------------------------------------------------------------
# Citation lookups
# --------------------------------------------------------------------------------------


BODY = ("BMW has forecast sales growth of at least 10% in Asia this year. "
        "BMW sold nearly 95,000 cars in Asia last year, up 2.6% on 2003. "
        "The German carmaker is aiming to boost annual sales in Asia to 150,000 by 2008. "
        "China remains the main area of concern for BMW after sales there fell 16%.")


def cited(quote: str, **changes: Any) -> Citation:
    start = BODY.index(quote)
    return citation(quote=quote, start=start, end=start + len(quote),
                    spans=[(start, start + len(quote))], **changes)


def test_quote_is_bold_inside_its_context_with_metadata_and_link() -> None:
    quote = "The German carmaker is aiming to boost annual sales in Asia to 150,000 by 2008."
    c = cited(quote, n=2, author="Jo Bloggs", url="https://news.bbc.co.uk/1/hi/business/4.stm")
    (message,) = render_citation(c, BODY)
    text, entities = parse_html(message)
    assert text.startswith("[2] BMW drives record sales in Asia\nBBC News · Jo Bloggs · 2005-01-11")
    assert quote in entity_texts(message, "bold")
    assert "95,000 cars in Asia last year" in text and "main area of concern" in text
    links = [e["url"] for e in entities if e["type"] == "text_link"]
    assert links == ["https://news.bbc.co.uk/1/hi/business/4.stm"]
    assert any(e["type"] == "blockquote" for e in entities)


def test_every_quoted_span_of_a_source_is_highlighted() -> None:
    first = "BMW sold nearly 95,000 cars in Asia last year, up 2.6% on 2003."
    second = "China remains the main area of concern for BMW after sales there fell 16%."
    c = cited(first)
    c.spans.append((BODY.index(second), BODY.index(second) + len(second)))
    bold = entity_texts(citation_html(c, BODY), "bold")
    assert first in bold and second in bold


def test_a_changed_or_removed_article_still_shows_the_quote_as_cited() -> None:
    quote = "BMW sold nearly 95,000 cars in Asia last year, up 2.6% on 2003."
    moved = cited(quote)
    text, _ = parse_html(citation_html(moved, "A new first paragraph. " + BODY))
    assert quote in text and "has changed" not in text
    gone = parse_html(citation_html(moved, None))[0]
    assert quote in gone and "changed or was removed" in gone


def test_file_sources_show_outlet_headline_and_date_never_a_path_or_file_name() -> None:
    text, entities = parse_html(citation_html(cited("BMW has forecast sales growth"), BODY))
    assert text.startswith("[1] BMW drives record sales in Asia\nBBC News · 2005-01-11")
    assert "/srv/citebot" not in text and "bbc-bmw" not in text and "Source:" not in text
    assert not [e for e in entities if e["type"] == "text_link"]
    copy_from_a_file = cited("BMW has forecast sales growth",
                             also_reported_by=["/srv/citebot/articles/copy.txt", "Wire"])
    shown = parse_html(citation_html(copy_from_a_file, BODY))[0]
    assert "Also reported by Wire" in shown and "copy.txt" not in shown


def test_reindex_progress_and_report() -> None:
    reading = render.render_reindex_progress(full=True, articles_seen=7, progress=None)
    assert parse_html(reading)[0] == "🔄 Reindexing (full)…\nArticles read: 7\nEmbedded: 0 so far"
    embedding = render.render_reindex_progress(
        full=False, articles_seen=7, progress=Progress("embedding", 30, 120))
    assert "Embedded: 30 / 120 passages and sentences (25%)" in embedding
    report = IngestReport(added=2, updated=1, removed=3, unchanged=4, embedded=9,
                          embedded_sentences=31, vectors=50, seconds=2.5,
                          skipped=[("/srv/a/<bad>.txt", "not UTF-8 & broken")])
    text, _ = parse_html(render.render_reindex_report(report, full=False))
    assert text.splitlines() == [
        "✅ Reindex finished in 2.5 s",
        "Added 2 · changed 1 · removed 3 · unchanged 4",
        "Embedded: 9 passages, 31 sentences · vectors in the index: 50",
        "Errors: 1",
        "• <bad>.txt: not UTF-8 & broken",
    ]


# --------------------------------------------------------------------------------------
# Splitting
# --------------------------------------------------------------------------------------


def test_a_long_answer_is_split_at_paragraphs_and_keeps_its_formatting() -> None:
    paragraph = "Sales rose & profits < expectations. " * 30
    text = "\n\n".join(f"<b>Part {i}</b> {escape(paragraph)}" for i in range(12))
    parts = split_html(text)
    assert len(parts) > 1
    assert_valid_messages(parts)
    assert all(parse_html(p)[0].startswith("Part ") for p in parts), "cut at paragraphs"
    joined = [c for p in parts for c in styled_chars(p)]
    assert joined == styled_chars(text)


def test_a_tag_open_at_a_cut_is_closed_and_reopened() -> None:
    text = ('<blockquote>Intro <a href="https://example.com/x">'
            + escape("word & more " * 700) + "</a> end</blockquote>")
    parts = split_html(text)
    assert len(parts) >= 2
    assert_valid_messages(parts)
    assert all(p.startswith('<blockquote><a href="https://example.com/x">') for p in parts[1:])
    assert [c for p in parts for c in styled_chars(p)] == styled_chars(text)


def test_an_article_list_over_4096_is_split_between_lines() -> None:
    articles = [article(i, f"Headline {i} " + "about a rather long topic " * 6,
                        url=f"https://example.com/{i}") for i in range(60)]
    parts = render_article_list("Newest articles", articles)
    assert len(parts) >= 3
    assert_valid_messages(parts)
    lines = [line for p in parts for line in parse_html(p)[0].splitlines()]
    assert lines[0] == "Newest articles"
    assert [line.split(".")[0] for line in lines[1:]] == [str(i) for i in range(1, 61)]


# --------------------------------------------------------------------------------------
# Properties: anything renders to valid Telegram HTML in messages of at most 4096
# --------------------------------------------------------------------------------------

any_text = st.text(max_size=300)
big_text = st.text(max_size=9000) | st.text(alphabet="ab <&>\n.😀", max_size=9000)
urls = st.none() | st.text(max_size=40).map(lambda s: "https://example.com/" + s) | any_text


@st.composite
def citations(draw: st.DrawFn, n: int) -> Citation:
    return citation(
        n=n, title=draw(any_text), outlet=draw(st.none() | any_text),
        author=draw(st.none() | any_text), url=draw(urls),
        published_at=draw(st.none() | any_text), quote=draw(any_text),
        also_reported_by=draw(st.lists(any_text, max_size=3)),
    )


@PROPERTY
@given(text=big_text, data=st.data())
def test_any_answer_renders_to_valid_messages(text: str, data: st.DataObject) -> None:
    cites = [data.draw(citations(n)) for n in range(1, data.draw(st.integers(0, 3)) + 1)]
    note = data.draw(st.none() | any_text)
    parts = render_answer(answer_with(text + " [1]", cites), note=note)
    assert_valid_messages(parts)
    whole = render.answer_html(answer_with(text + " [1]", cites), note=note)
    assert [c for p in parts for c in styled_chars(p)] == styled_chars(whole)


@PROPERTY
@given(before=big_text, quote=st.text(min_size=1, max_size=5000), after=any_text,
       data=st.data())
def test_any_citation_renders_with_its_exact_quote(before: str, quote: str, after: str,
                                                    data: st.DataObject) -> None:
    body = clean_text(before + quote + after)
    quote = clean_text(quote)
    start = body.find(quote, len(clean_text(before)) - 1 if before else 0)
    c = data.draw(citations(1))
    c.quote, c.start, c.end, c.spans = quote, start, start + len(quote), [
        (start, start + len(quote))]
    parts = render_citation(c, body)
    assert_valid_messages(parts)
    shown = "".join(parse_html(p)[0] for p in parts)
    assert "".join(quote.split()) in "".join(shown.split())
    if len(parts) == 1 and quote.strip():
        assert quote.strip() in [b.strip() for b in entity_texts(parts[0], "bold")]


fragments = st.recursive(
    any_text.map(escape),
    lambda inner: st.tuples(
        st.sampled_from(["b", "i", "u", "s", "code", "blockquote", "a"]),
        st.lists(inner, max_size=4),
    ).map(lambda t: (f'<a href="https://example.com/{len(t[1])}">' if t[0] == "a"
                     else f"<{t[0]}>") + "\n".join(t[1]) + f"</{t[0]}>"),
    max_leaves=30,
)


@PROPERTY
@given(pieces=st.lists(fragments, min_size=1, max_size=40),
       limit=st.integers(min_value=300, max_value=MAX))
def test_split_html_keeps_every_character_and_style_within_the_limit(
    pieces: list[str], limit: int
) -> None:
    source = "\n\n".join(pieces)
    if not re.sub(r"<[^>]*>", "", source).strip():
        assert split_html(source, limit) == []
        return
    parts = split_html(source, limit)
    assert_valid_messages(parts, limit)
    assert [c for p in parts for c in styled_chars(p)] == styled_chars(source.strip())


@pytest.mark.parametrize("text", ["", "   ", "<b> </b>", "\n\n"])
def test_nothing_visible_gives_no_message(text: str) -> None:
    assert split_html(text) == []


def test_escape_matches_html_escape_for_clean_text() -> None:
    sample = "Fish & chips <cheap> \"quoted\" 'single'"
    assert escape(sample) == html.escape(sample, quote=False)


def test_stats_say_how_passage_vectors_were_made() -> None:
    stats: dict[str, object] = {"articles": 3, "stories": 2, "passages": 9, "vectors": 9,
                                "model": "all-MiniLM-L6-v2", "index_bytes": 2048,
                                "index_generation": 4, "last_reindex": "2026-11-26T14:00:00"}
    text = render.render_stats(stats)
    assert "Model: all-MiniLM-L6-v2\n" in text and "2.0 KB" in text
    assert ("Model: all-MiniLM-L6-v2 (passage vectors: embedded from their own text)\n"
            in render.render_stats({**stats, "passage_vectors": "embedded"}))
    assert ("Model: all-MiniLM-L6-v2 (passage vectors: mean of their sentences')\n"
            in render.render_stats({**stats, "passage_vectors": "sentence-mean"}))


def test_a_hedged_answer_says_it_may_not_answer_and_a_sure_one_does_not() -> None:
    sure = answer_with("BMW sold nearly 95,000 cars in Asia last year. [1]", [citation()])
    hedged = answer_with(sure.answer, [citation()])
    hedged.hedged = True
    warning = f"<i>{escape(HEDGE_NOTE)}</i>"
    assert warning not in render.answer_html(sure)
    text = render.answer_html(hedged, note="Articles from 2005 only.")
    assert text.index("Articles from 2005 only.") < text.index(warning) < text.index("BMW sold")
    declined = answer_with("I couldn't find that in the articles I have.", [])
    declined.hedged = True
    assert warning not in render.answer_html(declined)
