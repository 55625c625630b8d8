"""The PostgreSQL store: articles, passages, stories, sources, feeds and index state, with
full-text search ranked by BM25 (`ArticleStore`, `ArticleCatalog`, `IndexerStore`).

The same behaviour as `sqlite_store.SQLiteStore` (the shared tests in
tests/storage_contract.py hold both to it) on `postgres_db.PostgresDatabase`. Each
passage keeps a `tsvector` of its headline (weight A) and text (weight D) under a GIN
index, and its token count. PostgreSQL's own `ts_rank` is not BM25 (no inverse document
frequency, no length normalisation against the average), and the question path's fusion
and tuning were fitted on FTS5's BM25. So `lexical_search` does not use `ts_rank`: the GIN
index finds the passages holding any of the words, and one SQL statement scores them by
Okapi BM25 exactly as FTS5 does (k1 = 1.2, b = 0.75, idf = ln((N − n + 0.5)/(n + 0.5)) ≥
1e-6, a headline hit counting 2, a body hit 1), from each word's positions in the
tsvector, the passage's length and the collection's passage count and mean length.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import numpy as np

from index.sources import dedupe
from index.sources.article import ArticleDraft
from index.sources.chunk import make_passages
from index.storage.postgres_db import (
    ADD_WORDS,
    TEXT_SEARCH,
    PostgresDatabase,
    vocabulary_rows,
)
from index.storage.records import FileState, PassageRow, StoredArticle, StoredFeed
from index.text import plain_words
from index.vectors.embedding_inputs import (
    embed_input,
    sentence_inputs,
    sentence_keys_of_passages,
    text_key,
)
from index.vocabulary import article_words, closest, length_band, row_key

_ARTICLE_COLUMNS = ("id, origin, url, title, outlet, author, published_at, body, story_id, "
                    "ingested_at, updated_at, language")
_PASSAGE_COLUMNS = "p.id, p.article_id, a.story_id, p.seq, p.start_at, p.end_at, p.text"

# Okapi BM25 as FTS5 computes it. Parameters: words (the query's words, space-separated),
# title_weight, candidates. The passages scored are those holding the query's rarer words:
# words are taken rarest first while the passages holding those taken so far number fewer
# than `candidates`, and a word held by half the passages or more (its idf is FTS5's floor,
# 1e-6) is taken only when it is the rarest. Every word still counts in the scores.
_BM25 = f"""
WITH words AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('{TEXT_SEARCH}', %(words)s))),
     totals AS (SELECT count(*)::float8 AS n, coalesce(avg(length), 1)::float8 AS avgdl
                FROM passages),
     df AS (SELECT w.lexeme, d.n FROM words w CROSS JOIN LATERAL (
                SELECT count(*)::float8 AS n FROM passages p
                WHERE p.tsv @@ quote_literal(w.lexeme)::tsquery) d),
     idf AS (SELECT d.lexeme, d.n, greatest(ln((t.n - d.n + 0.5) / (d.n + 0.5)), 1e-6) AS idf,
                    sum(d.n) OVER (ORDER BY d.n, d.lexeme) - d.n AS before,
                    row_number() OVER (ORDER BY d.n, d.lexeme) AS rarity, t.n AS total
             FROM df d CROSS JOIN totals t),
     query AS (SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q FROM idf
               WHERE rarity = 1 OR (before < %(candidates)s AND n < total / 2)),
     hits AS (SELECT p.id, p.article_id, p.length, p.tsv FROM passages p, query
              WHERE query.q IS NOT NULL AND p.tsv @@ query.q),
     scored AS (
        SELECT h.id, h.article_id, sum(idf.idf * tf.f * 2.2
                   / (tf.f + 1.2 * (0.25 + 0.75 * h.length / totals.avgdl))) AS score
        FROM hits h CROSS JOIN totals
        CROSS JOIN LATERAL unnest(h.tsv) AS u(lexeme, positions, weights)
        JOIN idf ON idf.lexeme = u.lexeme
        CROSS JOIN LATERAL (
            SELECT sum(CASE WHEN w = 'A' THEN %(title_weight)s ELSE 1.0 END)::float8 AS f
            FROM unnest(u.weights) AS w) tf
        GROUP BY h.id, h.article_id)
"""


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def candidates(limit: int) -> int:
    """How many passages BM25 scores, at least, to return the best `limit`."""
    return max(1000, 16 * limit)


def query_words(terms: list[str]) -> str:
    """The words of `terms` (punctuation dropped), space-separated, for `to_tsvector`."""
    return " ".join(dict.fromkeys(piece for term in terms for piece in plain_words(term)))


class PostgresStore:
    """A collection's articles in PostgreSQL; one per process, shared by its threads."""

    def __init__(self, database: PostgresDatabase) -> None:
        self.database = database

    @classmethod
    def open(cls, url: str) -> PostgresStore:
        return cls(PostgresDatabase(url))

    def close(self) -> None:
        self.database.close()

    # -- running SQL ------------------------------------------------------------------

    def _rows(self, sql: str, params: object = None) -> list[tuple]:
        with self.database.connection() as connection:
            return connection.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def _one(self, sql: str, params: object = None) -> tuple | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def _run(self, sql: str, params: object = None) -> int:
        with self.database.connection() as connection:
            return connection.execute(sql, params).rowcount  # type: ignore[arg-type]

    def transaction(self) -> AbstractContextManager[None]:
        return self.database.transaction()

    def snapshot(self) -> AbstractContextManager[None]:
        return self.database.snapshot()

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM citebot_meta WHERE key = %s", [key])
        return row[0] if row else default

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            for key, value in values.items():
                self._run("INSERT INTO citebot_meta(key, value) VALUES(%s, %s) "
                          "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])

    # -- files read whole (`FileStates`) -------------------------------------------------

    def file_states(self, prefix: str) -> dict[str, FileState]:
        folder = prefix.rstrip("/") + "/"
        rows = self._rows("SELECT path, size, mtime_ns, content_hash FROM file_states "
                          "WHERE path = %s OR left(path, %s) = %s",
                          [prefix, len(folder), folder])
        return {row[0]: FileState(*row) for row in rows}

    def remember_file(self, state: FileState) -> None:
        self._run("INSERT INTO file_states(path, size, mtime_ns, content_hash) "
                  "VALUES(%s, %s, %s, %s) ON CONFLICT (path) DO UPDATE SET size = "
                  "EXCLUDED.size, mtime_ns = EXCLUDED.mtime_ns, content_hash = "
                  "EXCLUDED.content_hash",
                  [state.path, state.size, state.mtime_ns, state.content_hash])

    def forget_files(self, paths: Iterable[str]) -> None:
        wanted = list(paths)
        if wanted:
            with self.transaction():
                self._run("DELETE FROM file_states WHERE path = ANY(%s)", [wanted])

    # -- sources ----------------------------------------------------------------------

    def add_source(self, path: str, kind: str) -> None:
        self._run("INSERT INTO sources(path, kind, added_at) VALUES(%s, %s, %s) "
                  "ON CONFLICT DO NOTHING", [path, kind, utc_now()])

    def sources(self, kind: str | None = None) -> list[str]:
        if kind:
            rows = self._rows("SELECT path FROM sources WHERE kind = %s ORDER BY path", [kind])
        else:
            rows = self._rows("SELECT path FROM sources ORDER BY path")
        return [row[0] for row in rows]

    # -- feeds ------------------------------------------------------------------------

    def add_feed(self, url: str, title: str | None) -> bool:
        return self._run("INSERT INTO feeds(url, title, added_at) VALUES(%s, %s, %s) "
                         "ON CONFLICT DO NOTHING", [url, title, utc_now()]) == 1

    def feeds(self) -> list[StoredFeed]:
        rows = self._rows(
            """SELECT f.url, f.title, f.etag, f.modified, f.added_at, f.last_polled_at,
                      f.last_error, COUNT(i.key)
               FROM feeds f LEFT JOIN feed_items i ON i.feed_url = f.url
               GROUP BY f.url ORDER BY f.added_at, f.url""")
        return [StoredFeed(*row) for row in rows]

    def remove_feed(self, url: str) -> list[str]:
        with self.transaction():
            origins = [row[0] for row in self._rows(
                "SELECT DISTINCT origin FROM feed_items WHERE feed_url = %s "
                "AND origin IS NOT NULL AND origin NOT IN (SELECT origin FROM feed_items "
                "WHERE feed_url <> %s AND origin IS NOT NULL) ORDER BY origin", [url, url])]
            self._run("DELETE FROM feed_items WHERE feed_url = %s", [url])
            self._run("DELETE FROM feeds WHERE url = %s", [url])
        return origins

    def feed_item_hashes(self, url: str) -> dict[str, str]:
        return dict(self._rows("SELECT key, content_hash FROM feed_items WHERE feed_url = %s",
                               [url]))

    def save_feed_item(self, feed_url: str, key: str, link: str | None, content_hash: str,
                       origin: str | None) -> None:
        self._run(
            "INSERT INTO feed_items(feed_url, key, link, content_hash, origin, seen_at) "
            "VALUES(%s, %s, %s, %s, %s, %s) ON CONFLICT(feed_url, key) DO UPDATE SET "
            "link = excluded.link, content_hash = excluded.content_hash, "
            "origin = excluded.origin, seen_at = excluded.seen_at",
            [feed_url, key, link, content_hash, origin, utc_now()])

    def record_feed_poll(self, url: str, *, title: str | None, etag: str | None,
                         modified: str | None) -> None:
        self._run("UPDATE feeds SET title = COALESCE(%s, title), etag = %s, modified = %s, "
                  "last_polled_at = %s, last_error = NULL WHERE url = %s",
                  [title, etag, modified, utc_now(), url])

    def record_feed_error(self, url: str, error: str) -> None:
        self._run("UPDATE feeds SET last_polled_at = %s, last_error = %s WHERE url = %s",
                  [utc_now(), error, url])

    # -- articles: writing ------------------------------------------------------------

    def url_of(self, origin: str) -> str | None:
        row = self._one("SELECT url FROM articles WHERE origin = %s", [origin])
        return row[0] if row else None

    def upsert_article(self, draft: ArticleDraft, *, max_tokens: int = 160) -> str:
        content_hash = draft.content_hash()
        with self.transaction():
            row = self._one("SELECT id, content_hash, ingested_at FROM articles "
                            "WHERE origin = %s", [draft.origin])
            if row and row[1] == content_hash:
                return "unchanged"
            if row:
                self._delete_article(row[0])
            article_id = self._insert_article(draft, content_hash,
                                              ingested_at=row[2] if row else None,
                                              keep_id=row[0] if row else None)
            self._insert_passages(article_id, draft, max_tokens)
        return "updated" if row else "added"

    def import_article(self, article: StoredArticle, *, max_tokens: int = 160) -> None:
        """Store an article copied from another collection with its id and timestamps (its
        passages made again the same way; its story found again, as at its first ingest).
        For `citebot migrate`, on an empty collection, articles in id order."""
        draft = ArticleDraft(origin=article.origin, title=article.title, body=article.body,
                             url=article.url, outlet=article.outlet, author=article.author,
                             published_at=article.published_at, language=article.language)
        with self.transaction():
            article_id = self._insert_article(draft, draft.content_hash(),
                                              ingested_at=article.ingested_at,
                                              keep_id=article.id)
            self._run("UPDATE articles SET updated_at = %s WHERE id = %s",
                      [article.updated_at, article_id])
            self._insert_passages(article_id, draft, max_tokens)
            self._run("SELECT setval(pg_get_serial_sequence('articles', 'id'), "
                      "GREATEST((SELECT max(id) FROM articles), 1))")

    def _insert_article(self, draft: ArticleDraft, content_hash: str, *,
                        ingested_at: str | None, keep_id: int | None) -> int:
        body_hash = hashlib.sha256(" ".join(draft.body.split()).encode("utf-8")).hexdigest()
        twin = self._one("SELECT story_id FROM articles WHERE body_hash = %s ORDER BY id "
                         "LIMIT 1", [body_hash])
        fingerprint = dedupe.Fingerprint.of(draft.body, draft.title)
        story_id = twin[0] if twin else self._story_of_near_duplicate(fingerprint)
        now = utc_now()
        values = [draft.origin, draft.url, draft.title, draft.outlet, draft.author,
                  draft.published_at, draft.language, draft.body, body_hash, content_hash,
                  story_id, ingested_at or now, now]
        columns = ("origin, url, title, outlet, author, published_at, language, body, "
                   "body_hash, content_hash, story_id, ingested_at, updated_at")
        if keep_id is None:
            row = self._one(f"INSERT INTO articles({columns}) VALUES({', '.join(['%s'] * 13)}) "
                            "RETURNING id", values)
        else:
            row = self._one(f"INSERT INTO articles(id, {columns}) "
                            f"VALUES({', '.join(['%s'] * 14)}) RETURNING id", [keep_id, *values])
        assert row is not None
        article_id = int(row[0])
        if story_id is None:
            self._run("UPDATE articles SET story_id = id WHERE id = %s", [article_id])
        with self.database.connection() as connection:
            connection.cursor().executemany(
                "INSERT INTO story_bands(bucket, article_id) VALUES(%s, %s) "
                "ON CONFLICT DO NOTHING",
                [(bucket, article_id) for bucket in fingerprint.buckets])
        self._run(ADD_WORDS, vocabulary_rows(
            dict.fromkeys(article_words(draft.title, draft.body), 1)))
        return article_id

    def _insert_passages(self, article_id: int, draft: ArticleDraft, max_tokens: int) -> None:
        rows = []
        for seq, span in enumerate(make_passages(draft.body, max_tokens=max_tokens)):
            text = draft.body[span.start : span.end]
            rows.append((article_id, seq, span.start, span.end, text,
                         text_key(embed_input(draft.title, text)), draft.title, text))
        with self.database.connection() as connection:
            connection.cursor().executemany(
                f"""INSERT INTO passages(article_id, seq, start_at, end_at, text, embed_key,
                                         tsv, length)
                    SELECT %s, %s, %s, %s, %s, %s, v.tsv,
                           (SELECT COALESCE(SUM(cardinality(u.positions)), 0)
                            FROM unnest(v.tsv) AS u)
                    FROM (SELECT setweight(to_tsvector('{TEXT_SEARCH}', %s), 'A')
                                 || setweight(to_tsvector('{TEXT_SEARCH}', %s), 'D') AS tsv) v""",
                rows)

    def _story_of_near_duplicate(self, fingerprint: dedupe.Fingerprint, *,
                                 exclude: Collection[int] = ()) -> int | None:
        """The story of the stored article (not in `exclude`) most similar to
        `fingerprint`, if one is a near-duplicate of it (as `dedupe.story_of_near_duplicate`
        decides for SQLite)."""
        candidates = [row[0] for row in self._rows(
            "SELECT DISTINCT article_id FROM story_bands WHERE bucket = ANY(%s)",
            [list(fingerprint.buckets)]) if row[0] not in exclude]
        if not candidates:
            return None
        best: tuple[float, int] | None = None
        for story_id, title, body in self._rows(
                "SELECT story_id, title, body FROM articles WHERE id = ANY(%s) ORDER BY id",
                [candidates]):
            found = dedupe.similarity(fingerprint.shingles, dedupe.shingles(body))
            same_headline = (bool(fingerprint.headline)
                             and dedupe.headline_key(title) == fingerprint.headline)
            if found.same_story(same_headline) and (best is None or found.jaccard > best[0]):
                best = (found.jaccard, story_id)
        return best[1] if best else None

    def _delete_article(self, article_id: int) -> None:
        texts = self._one("SELECT title, body FROM articles WHERE id = %s", [article_id])
        if texts:  # its words leave the vocabulary; a word no article uses any more, too
            keys = [row_key(word) for word in article_words(*texts)]
            params = [[k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]]
            keyed = ("unnest(%s::text[], %s::int[], %s::text[]) AS g(initial, length, word) "
                     "WHERE (v.initial, v.length, v.word) = (g.initial, g.length, g.word)")
            self._run(f"UPDATE vocabulary v SET articles = v.articles - 1 FROM {keyed}", params)
            self._run(f"DELETE FROM vocabulary v USING {keyed} AND v.articles <= 0", params)
        self._run("DELETE FROM articles WHERE id = %s", [article_id])  # passages cascade
        orphans = [row[0] for row in self._rows(
            "SELECT id FROM articles WHERE story_id = %s ORDER BY id", [article_id])]
        if orphans:
            self._regroup(orphans)

    def _regroup(self, article_ids: list[int]) -> None:
        """New stories for the members of a story whose first article was deleted (as
        `dedupe.regroup`)."""
        texts = {row[0]: (row[1], row[2]) for row in self._rows(
            "SELECT id, title, body FROM articles WHERE id = ANY(%s)", [article_ids])}
        waiting = set(texts)
        for article_id in sorted(texts):
            title, body = texts[article_id]
            story = self._story_of_near_duplicate(dedupe.Fingerprint.of(body, title),
                                                  exclude=waiting)
            waiting.discard(article_id)
            self._run("UPDATE articles SET story_id = %s WHERE id = %s",
                      [article_id if story is None else story, article_id])

    def remove_origins(self, origins: Iterable[str]) -> int:
        removed = 0
        with self.transaction():
            for origin in origins:
                row = self._one("SELECT id FROM articles WHERE origin = %s", [origin])
                if row:
                    self._delete_article(row[0])
                    removed += 1
        return removed

    def origins_under(self, prefix: str) -> list[str]:
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return [row[0] for row in self._rows(
            "SELECT origin FROM articles WHERE origin = %s OR origin LIKE %s ESCAPE '\\' "
            "OR origin LIKE %s ESCAPE '\\'", [prefix, like.rstrip("/") + "/%", like + "#%"])]

    # -- articles: reading ------------------------------------------------------------

    def article(self, article_id: int) -> StoredArticle | None:
        row = self._one(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = %s", [article_id])
        return StoredArticle(*row) if row else None

    def articles(self, ids: Iterable[int]) -> dict[int, StoredArticle]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        rows = self._rows(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ANY(%s)",
                          [wanted])
        return {row[0]: StoredArticle(*row) for row in rows}

    def article_by_origin(self, origin: str) -> StoredArticle | None:
        row = self._one(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE origin = %s", [origin])
        return StoredArticle(*row) if row else None

    def text_identity(self, article_id: int) -> str | None:
        row = self._one("SELECT body_hash FROM articles WHERE id = %s", [article_id])
        return str(row[0]) if row else None

    def all_articles(self) -> Iterator[StoredArticle]:
        last = 0
        while True:  # in pages, so a large collection is never held in memory at once
            rows = self._rows(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id > %s "
                              "ORDER BY id LIMIT 500", [last])
            if not rows:
                return
            for row in rows:
                yield StoredArticle(*row)
            last = rows[-1][0]

    def story_members(self, story_id: int) -> list[StoredArticle]:
        rows = self._rows(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE story_id = %s "
                          "ORDER BY id", [story_id])
        return [StoredArticle(*row) for row in rows]

    def latest_articles(self, limit: int, *, since: str | None = None,
                        until: str | None = None) -> list[StoredArticle]:
        where, params = ["id = story_id"], []
        if since:
            where.append("published_at >= %s")
            params.append(since)
        if until:
            where.append("substr(published_at, 1, %s) <= %s")
            params += [len(until), until]
        rows = self._rows(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE {' AND '.join(where)} "
            "ORDER BY COALESCE(published_at, ingested_at) DESC, id DESC LIMIT %s",
            [*params, limit])
        return [StoredArticle(*row) for row in rows]

    def language_counts(self) -> dict[str, int]:
        rows = self._rows("SELECT COALESCE(language, ''), count(*) FROM articles "
                          "GROUP BY 1 ORDER BY 2 DESC, 1")
        return {language: int(count) for language, count in rows}

    def added_per_day(self, since: str) -> dict[tuple[str, str], int]:
        rows = self._rows(
            "SELECT substr(ingested_at, 1, 10) AS day, COALESCE(outlet, ''), count(*) "
            "FROM articles WHERE ingested_at >= %s GROUP BY 1, 2", [since])
        return {(day, outlet): int(count) for day, outlet, count in rows}

    # -- passages ---------------------------------------------------------------------

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        rows = self._rows(f"SELECT {_PASSAGE_COLUMNS} FROM passages p "
                          "JOIN articles a ON a.id = p.article_id WHERE p.id = ANY(%s)", [wanted])
        return {row[0]: PassageRow(*row) for row in rows}

    def passage_at(self, article_id: int, start: int, end: int) -> int | None:
        row = self._one("SELECT id FROM passages WHERE article_id = %s AND start_at <= %s "
                        "AND end_at >= %s ORDER BY seq LIMIT 1", [article_id, start, end])
        return int(row[0]) if row else None

    def passage_inputs(self) -> list[tuple[str, str]]:
        rows = self._rows("SELECT p.embed_key, a.title, p.text FROM passages p "
                          "JOIN articles a ON a.id = p.article_id")
        return list({key: embed_input(title, text) for key, title, text in rows}.items())

    def sentence_keys(self) -> list[tuple[str, str]]:
        found: dict[str, str] = {}
        for article in self.all_articles():
            for _start, _end, text in sentence_inputs(article.title, article.body):
                found.setdefault(text_key(text), text)
        return list(found.items())

    def article_texts(self) -> Iterator[tuple[str, str]]:
        for article in self.all_articles():
            yield article.title, article.body

    def passage_sentence_keys(self) -> Iterator[tuple[int, list[str]]]:
        """As `SQLiteStore.passage_sentence_keys`: each body split once, its sentences
        matched to its passages by position."""
        spans_of: dict[int, list[tuple[int, int, int]]] = {}
        for passage_id, article_id, start, end in self._rows(
                "SELECT id, article_id, start_at, end_at FROM passages ORDER BY start_at"):
            spans_of.setdefault(article_id, []).append((passage_id, start, end))
        for article in self.all_articles():
            spans = spans_of.get(article.id)
            if not spans:
                continue
            yield from sentence_keys_of_passages(article.title, article.body, spans)

    def passage_keys(self) -> tuple[np.ndarray, list[str]]:
        rows = self._rows("SELECT id, embed_key FROM passages ORDER BY id")
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        return ids, [row[1] for row in rows]

    # -- lexical search ---------------------------------------------------------------

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """(passage id, BM25 score) of the passages holding any of the words, best first
        (see the module for how the score is FTS5's)."""
        words = query_words(terms)
        if not words:
            return []
        rows = self._rows(_BM25 + "SELECT id, score FROM scored ORDER BY score DESC, id "
                          "LIMIT %(limit)s", {"words": words, "title_weight": 2.0,
                                              "limit": limit, "candidates": candidates(limit)})
        return [(int(row[0]), float(row[1])) for row in rows]

    def passage_frequency(self, term: str) -> int:
        row = self._one(f"SELECT count(*) FROM passages "
                        f"WHERE tsv @@ plainto_tsquery('{TEXT_SEARCH}', %s)", [term])
        return int(row[0]) if row else 0

    def has_term(self, term: str) -> bool:
        row = self._one(
            f"SELECT numnode(plainto_tsquery('{TEXT_SEARCH}', %s)) = 0 OR EXISTS ("
            f"SELECT 1 FROM passages WHERE tsv @@ plainto_tsquery('{TEXT_SEARCH}', %s))",
            [term, term])
        return bool(row and row[0])

    def similar_words(self, word: str, limit: int) -> list[tuple[str, int]]:
        word = word.lower()
        if not word:
            return []
        shortest, longest = length_band(len(word))
        rows = self._rows("SELECT word, articles FROM vocabulary WHERE initial = %s "
                          "AND length BETWEEN %s AND %s", [word[0], shortest, longest])
        return closest(word, rows, limit)

    def search_titles(self, terms: list[str], limit: int) -> list[int]:
        words = query_words(terms)
        if not words:
            return []
        rows = self._rows(
            _BM25 + "SELECT a.story_id, max(s.score) AS best FROM scored s "
            "JOIN articles a ON a.id = s.article_id GROUP BY a.story_id "
            "ORDER BY best DESC, a.story_id LIMIT %(limit)s",
            {"words": words, "title_weight": 4.0, "limit": limit,
             "candidates": candidates(limit)})
        return [int(row[0]) for row in rows]

    # -- counts -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        row = self._one("SELECT (SELECT count(*) FROM articles), "
                        "(SELECT count(DISTINCT story_id) FROM articles), "
                        "(SELECT count(*) FROM passages)")
        assert row is not None
        return {"articles": int(row[0]), "stories": int(row[1]), "passages": int(row[2])}
