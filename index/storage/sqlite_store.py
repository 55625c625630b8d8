"""The SQLite store: articles, passages, the embedding cache, sources, followed feeds and
index state.

One file (`citebot.sqlite`) under the data directory, in WAL mode so readers keep reading
while a writer works; statements go to this thread's sqlite3 connection, and the data steps
of migrations get it wrapped in a sqlite-utils Database. The schema is created and migrated by
code (`SCHEMA_VERSION`, `_MIGRATIONS`). Every change to an article and its passages happens
in one transaction, so a killed process leaves either the old or the new article, never
half of one.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.sources import dedupe
from index.sources.article import ArticleDraft
from index.sources.chunk import make_passages
from index.storage.connections import PerThreadDatabase
from index.storage.embedding_cache import EmbeddingCache
from index.storage.records import FileState, PassageRow, StoredArticle, StoredFeed
from index.text import plain_words
from index.vectors.embedding_inputs import (
    embed_input,
    sentence_inputs,
    sentence_keys_of_passages,
    text_key,
)
from index.vectors.embedding_inputs import sentence_model as sentence_model  # re-exported
from index.vocabulary import article_words, closest, length_band, row_key

if TYPE_CHECKING:
    import sqlite_utils

SCHEMA_VERSION = 6

_MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)""",
        """CREATE TABLE articles (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            origin TEXT NOT NULL UNIQUE,
            url TEXT,
            title TEXT NOT NULL,
            outlet TEXT,
            author TEXT,
            published_at TEXT,
            language TEXT,
            body TEXT NOT NULL,
            body_hash TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            story_id INTEGER,
            ingested_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        "CREATE INDEX articles_body_hash ON articles(body_hash)",
        "CREATE INDEX articles_published_at ON articles(published_at)",
        "CREATE INDEX articles_story ON articles(story_id)",
        """CREATE TABLE passages (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            seq INTEGER NOT NULL,
            start INTEGER NOT NULL,
            end INTEGER NOT NULL,
            text TEXT NOT NULL,
            embed_key TEXT NOT NULL
        )""",
        "CREATE INDEX passages_article ON passages(article_id)",
        """CREATE VIRTUAL TABLE passages_fts USING fts5(
            title, text, tokenize='porter unicode61 remove_diacritics 2'
        )""",
        """CREATE TABLE embeddings (
            model TEXT NOT NULL,
            key TEXT NOT NULL,
            vector BLOB NOT NULL,
            PRIMARY KEY (model, key)
        ) WITHOUT ROWID""",
        """CREATE TABLE sources (
            path TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            added_at TEXT NOT NULL
        )""",
    ],
    2: [
        """CREATE TABLE feeds (
            url TEXT PRIMARY KEY,
            title TEXT,
            etag TEXT,
            modified TEXT,
            added_at TEXT NOT NULL,
            last_polled_at TEXT,
            last_error TEXT
        )""",
        """CREATE TABLE feed_items (
            feed_url TEXT NOT NULL REFERENCES feeds(url) ON DELETE CASCADE,
            key TEXT NOT NULL,
            link TEXT,
            content_hash TEXT NOT NULL,
            origin TEXT,
            seen_at TEXT NOT NULL,
            PRIMARY KEY (feed_url, key)
        )""",
        "CREATE INDEX feed_items_origin ON feed_items(origin)",
        # LSH buckets of article bodies, for near-duplicate lookup (see index.sources.dedupe).
        """CREATE TABLE story_bands (
            bucket INTEGER NOT NULL,
            article_id INTEGER NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            PRIMARY KEY (bucket, article_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX story_bands_article ON story_bands(article_id)",
    ],
}
_MIGRATIONS[3] = []  # the embedding cache moves to its own file (index.cache)
_MIGRATIONS[4] = []  # same-headline updates join their story (index.sources.dedupe)
_MIGRATIONS[5] = [  # what was read of each file, so a reindex skips unchanged ones
    """CREATE TABLE IF NOT EXISTS file_states (
        path TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        content_hash TEXT NOT NULL
    ) WITHOUT ROWID""",
]
_MIGRATIONS[6] = [  # the collection's vocabulary: each word, how many articles use it
    # Filed by first letter and length, the keys a misspelled word's candidates are
    # fetched by (`index.vocabulary`): one range of the primary key, no second index.
    """CREATE TABLE IF NOT EXISTS vocabulary (
        initial TEXT NOT NULL,
        length INTEGER NOT NULL,
        word TEXT NOT NULL,
        articles INTEGER NOT NULL,
        PRIMARY KEY (initial, length, word)
    ) WITHOUT ROWID""",
]


def _move_embeddings_out(database: sqlite_utils.Database, data_dir: Path) -> None:
    """Schema 3: copy the cached vectors into `embeddings.sqlite`, then drop the table."""
    cache = EmbeddingCache(data_dir)
    try:
        rows = database.execute("SELECT model, key, vector FROM embeddings")
        while batch := rows.fetchmany(5000):
            connection = cache.db
            connection.execute("BEGIN IMMEDIATE")
            connection.executemany(
                "INSERT OR REPLACE INTO embeddings(model, key, vector) VALUES(?, ?, ?)", batch)
            connection.execute("COMMIT")
    finally:
        cache.close()
    database.execute("DROP TABLE embeddings")


def _build_vocabulary(database: sqlite_utils.Database, _data_dir: Path) -> None:
    """Schema 6: the vocabulary of the articles already stored (made again whole if the
    table was there already)."""
    database.execute("DELETE FROM vocabulary")
    counts: Counter[str] = Counter()
    for title, body in database.execute("SELECT title, body FROM articles"):
        counts.update(article_words(title, body))
    database.conn.executemany(
        "INSERT INTO vocabulary(initial, length, word, articles) VALUES(?, ?, ?, ?)",
        [(*row_key(word), articles) for word, articles in counts.items()])


# Data steps run in a migration's transaction, after its statements.
_MIGRATION_STEPS: dict[int, Callable[[sqlite_utils.Database, Path], object]] = {
    # fingerprint existing articles; group their near-duplicates
    2: lambda database, _data_dir: dedupe.backfill(database.conn),
    3: _move_embeddings_out,
    4: lambda database, _data_dir: dedupe.join_updated_versions(database.conn),
    6: _build_vocabulary,
}


# The columns of a `StoredArticle`, in its field order.
_ARTICLE_COLUMNS = ("id, origin, url, title, outlet, author, published_at, body, story_id, "
                    "ingested_at, updated_at, language")


def utc_now() -> str:
    """The current time as an ISO-8601 UTC string, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def fts_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: any of the terms, each quoted (no FTS syntax leaks in)."""
    parts = []
    for term in terms:
        for piece in plain_words(term):
            parts.append('"' + piece.replace('"', "") + '"')
    return " OR ".join(dict.fromkeys(parts))


class SQLiteStore:
    """The project's SQLite database: open it once per process and share it."""

    FILENAME = "citebot.sqlite"

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / self.FILENAME
        self._connections = PerThreadDatabase(self.path, foreign_keys=True)
        self._migrate()

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection (see `index.storage.connections`)."""
        return self._connections.connection

    # -- schema -----------------------------------------------------------------------

    def _migrate(self) -> None:
        version = self._schema_version()
        if version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer citebot (schema {version}); upgrade citebot"
            )
        for target in range(version + 1, SCHEMA_VERSION + 1):
            with self.transaction():
                for statement in _MIGRATIONS[target]:
                    self.db.execute(statement)
                if target in _MIGRATION_STEPS:
                    _MIGRATION_STEPS[target](self._connections.database, self.path.parent)
                self._set_meta_unlocked("schema_version", str(target))

    def _schema_version(self) -> int:
        if not self.db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
            return 0
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0]) if row else 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT, rolled back on error). Inside
        an open transaction of this thread it nests as a savepoint, so a whole ingest or
        reindex can be made one transaction around steps that are transactions of their own.
        """
        connection = self.db
        if connection.in_transaction:
            name = f"nested_{id(connection)}_{threading.get_ident()}"
            connection.execute(f"SAVEPOINT {name}")
            try:
                yield
            except BaseException:
                connection.execute(f"ROLLBACK TO {name}")
                connection.execute(f"RELEASE {name}")
                raise
            connection.execute(f"RELEASE {name}")
            return
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads that see one committed state of the store, whatever a writer commits
        meanwhile (a read transaction; WAL lets the writer go on). Inside a transaction of
        this thread it adds nothing."""
        connection = self.db
        if connection.in_transaction:
            yield
            return
        connection.execute("BEGIN")
        try:
            yield
        finally:
            connection.execute("COMMIT")

    def close(self) -> None:
        self._connections.close()

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", [key]).fetchone()
        return row[0] if row else default

    def _set_meta_unlocked(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES(?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            [key, value],
        )

    def set_meta(self, values: dict[str, str]) -> None:
        with self.transaction():
            for key, value in values.items():
                self._set_meta_unlocked(key, value)

    # -- sources ----------------------------------------------------------------------

    def add_source(self, path: str, kind: str) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO sources(path, kind, added_at) VALUES(?, ?, ?)",
            [path, kind, utc_now()],
        )

    def sources(self, kind: str | None = None) -> list[str]:
        sql = "SELECT path FROM sources" + (" WHERE kind=?" if kind else "") + " ORDER BY path"
        return [row[0] for row in self.db.execute(sql, [kind] if kind else [])]

    # -- file states ------------------------------------------------------------------

    def file_states(self, prefix: str) -> dict[str, FileState]:
        """The remembered state of the file `prefix` or of every file under the folder."""
        rows = self.db.execute(
            "SELECT path, size, mtime_ns, content_hash FROM file_states "
            "WHERE path = ? OR substr(path, 1, ?) = ?",
            [prefix, len(prefix.rstrip("/")) + 1, prefix.rstrip("/") + "/"])
        return {row[0]: FileState(*row) for row in rows}

    def remember_file(self, state: FileState) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO file_states(path, size, mtime_ns, content_hash) "
            "VALUES(?, ?, ?, ?)",
            [state.path, state.size, state.mtime_ns, state.content_hash])

    def forget_files(self, paths: Iterable[str]) -> None:
        with self.transaction():
            self.db.executemany("DELETE FROM file_states WHERE path=?",
                                     [[path] for path in paths])

    # -- feeds ------------------------------------------------------------------------

    def add_feed(self, url: str, title: str | None) -> bool:
        """Follow a feed; False if it is followed already."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO feeds(url, title, added_at) VALUES(?, ?, ?)",
            [url, title, utc_now()],
        )
        return cursor.rowcount == 1

    def feeds(self) -> list[StoredFeed]:
        rows = self.db.execute(
            """SELECT f.url, f.title, f.etag, f.modified, f.added_at, f.last_polled_at,
                      f.last_error, COUNT(i.key)
               FROM feeds f LEFT JOIN feed_items i ON i.feed_url = f.url
               GROUP BY f.url ORDER BY f.added_at, f.url"""
        )
        return [StoredFeed(*row) for row in rows]

    def remove_feed(self, url: str) -> list[str]:
        """Stop following a feed; returns the origins of articles that came only from it."""
        with self.transaction():
            origins = [row[0] for row in self.db.execute(
                "SELECT DISTINCT origin FROM feed_items WHERE feed_url=? AND origin IS NOT NULL "
                "AND origin NOT IN (SELECT origin FROM feed_items WHERE feed_url<>? "
                "AND origin IS NOT NULL)", [url, url])]
            self.db.execute("DELETE FROM feed_items WHERE feed_url=?", [url])
            self.db.execute("DELETE FROM feeds WHERE url=?", [url])
        return origins

    def feed_item_hashes(self, url: str) -> dict[str, str]:
        """key → content hash of the items of a feed already handled."""
        return dict(self.db.execute(
            "SELECT key, content_hash FROM feed_items WHERE feed_url=?", [url]).fetchall())

    def save_feed_item(self, feed_url: str, key: str, link: str | None, content_hash: str,
                       origin: str | None) -> None:
        self.db.execute(
            "INSERT INTO feed_items(feed_url, key, link, content_hash, origin, seen_at) "
            "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(feed_url, key) DO UPDATE SET "
            "link=excluded.link, content_hash=excluded.content_hash, origin=excluded.origin, "
            "seen_at=excluded.seen_at",
            [feed_url, key, link, content_hash, origin, utc_now()],
        )

    def record_feed_poll(self, url: str, *, title: str | None, etag: str | None,
                         modified: str | None) -> None:
        """A successful poll: its validators are sent with the next one."""
        self.db.execute(
            "UPDATE feeds SET title=COALESCE(?, title), etag=?, modified=?, last_polled_at=?, "
            "last_error=NULL WHERE url=?", [title, etag, modified, utc_now(), url])

    def record_feed_error(self, url: str, error: str) -> None:
        self.db.execute("UPDATE feeds SET last_polled_at=?, last_error=? WHERE url=?",
                        [utc_now(), error, url])

    # -- articles ---------------------------------------------------------------------

    def url_of(self, origin: str) -> str | None:
        row = self.db.execute("SELECT url FROM articles WHERE origin=?", [origin]).fetchone()
        return row[0] if row else None

    def content_hash_of(self, origin: str) -> str | None:
        row = self.db.execute(
            "SELECT content_hash FROM articles WHERE origin=?", [origin]
        ).fetchone()
        return row[0] if row else None

    def upsert_article(self, draft: ArticleDraft, *, max_tokens: int = 160) -> str:
        """Store a draft with its passages; returns "added", "updated" or "unchanged"."""
        content_hash = draft.content_hash()
        with self.transaction():
            row = self.db.execute(
                "SELECT id, content_hash, ingested_at FROM articles WHERE origin=?",
                [draft.origin],
            ).fetchone()
            if row and row[1] == content_hash:
                return "unchanged"
            if row:
                self._delete_article_unlocked(row[0])
            article_id = self._insert_article_unlocked(
                draft, content_hash, ingested_at=row[2] if row else None,
                keep_id=row[0] if row else None,
            )
            self._insert_passages_unlocked(article_id, draft, max_tokens)
        return "updated" if row else "added"

    def _insert_article_unlocked(
        self, draft: ArticleDraft, content_hash: str, *, ingested_at: str | None,
        keep_id: int | None,
    ) -> int:
        body_hash = hashlib.sha256(" ".join(draft.body.split()).encode("utf-8")).hexdigest()
        twin = self.db.execute(
            "SELECT story_id FROM articles WHERE body_hash=? ORDER BY id LIMIT 1", [body_hash]
        ).fetchone()
        fingerprint = dedupe.Fingerprint.of(draft.body, draft.title)
        story_id = twin[0] if twin else dedupe.story_of_near_duplicate(self.db, fingerprint)
        now = utc_now()
        cursor = self.db.execute(
            """INSERT INTO articles(id, origin, url, title, outlet, author, published_at,
                   language, body, body_hash, content_hash, story_id, ingested_at, updated_at)
               VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [keep_id, draft.origin, draft.url, draft.title, draft.outlet, draft.author,
             draft.published_at, draft.language, draft.body, body_hash, content_hash,
             story_id, ingested_at or now, now],
        )
        article_id = int(cursor.lastrowid or 0)
        if story_id is None:
            self.db.execute("UPDATE articles SET story_id=id WHERE id=?", [article_id])
        dedupe.remember(self.db, article_id, fingerprint)
        self.db.executemany(
            "INSERT INTO vocabulary(initial, length, word, articles) VALUES(?, ?, ?, 1) "
            "ON CONFLICT(initial, length, word) DO UPDATE SET articles = articles + 1",
            [row_key(word) for word in article_words(draft.title, draft.body)])
        return article_id

    def _insert_passages_unlocked(
        self, article_id: int, draft: ArticleDraft, max_tokens: int
    ) -> None:
        for seq, span in enumerate(make_passages(draft.body, max_tokens=max_tokens)):
            text = draft.body[span.start : span.end]
            cursor = self.db.execute(
                "INSERT INTO passages(article_id, seq, start, end, text, embed_key) "
                "VALUES(?, ?, ?, ?, ?, ?)",
                [article_id, seq, span.start, span.end, text,
                 text_key(embed_input(draft.title, text))],
            )
            self.db.execute(
                "INSERT INTO passages_fts(rowid, title, text) VALUES(?, ?, ?)",
                [cursor.lastrowid, draft.title, text],
            )

    def _delete_article_unlocked(self, article_id: int) -> None:
        texts = self.db.execute("SELECT title, body FROM articles WHERE id=?",
                                [article_id]).fetchone()
        if texts:  # its words leave the vocabulary; a word no article uses any more, too
            keys = [row_key(word) for word in article_words(*texts)]
            self.db.executemany("UPDATE vocabulary SET articles = articles - 1 "
                                "WHERE initial=? AND length=? AND word=?", keys)
            self.db.executemany("DELETE FROM vocabulary WHERE initial=? AND length=? "
                                "AND word=? AND articles <= 0", keys)
        self.db.execute(
            "DELETE FROM passages_fts WHERE rowid IN "
            "(SELECT id FROM passages WHERE article_id=?)",
            [article_id],
        )
        self.db.execute("DELETE FROM passages WHERE article_id=?", [article_id])
        self.db.execute("DELETE FROM articles WHERE id=?", [article_id])
        # A story whose first article went: its other members are grouped again (the
        # first one heads the story; one that only duplicated the deleted article may not).
        orphans = self.db.execute(
            "SELECT id FROM articles WHERE story_id=? ORDER BY id", [article_id]
        ).fetchall()
        if orphans:
            dedupe.regroup(self.db, [row[0] for row in orphans])

    def remove_origins(self, origins: Iterable[str]) -> int:
        """Delete articles (with their passages) by origin; returns how many went."""
        removed = 0
        with self.transaction():
            for origin in origins:
                row = self.db.execute("SELECT id FROM articles WHERE origin=?", [origin]).fetchone()
                if row:
                    self._delete_article_unlocked(row[0])
                    removed += 1
        return removed

    def origins_under(self, prefix: str) -> list[str]:
        """Origins of file articles whose path lies under `prefix` (a file or folder)."""
        like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self.db.execute(
            "SELECT origin FROM articles WHERE origin = ? OR origin LIKE ? ESCAPE '\\' "
            "OR origin LIKE ? ESCAPE '\\'",
            [prefix, like.rstrip("/") + "/%", like + "#%"],
        )
        return [row[0] for row in rows]

    def article(self, article_id: int) -> StoredArticle | None:
        row = self.db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id=?",
            [article_id],
        ).fetchone()
        return StoredArticle(*row) if row else None

    def articles(self, ids: Iterable[int]) -> dict[int, StoredArticle]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id IN ({marks})",
            wanted,
        )
        return {row[0]: StoredArticle(*row) for row in rows}

    def article_by_origin(self, origin: str) -> StoredArticle | None:
        """The article stored from `origin`, if any."""
        row = self.db.execute("SELECT id FROM articles WHERE origin=?", [origin]).fetchone()
        return self.article(row[0]) if row else None

    def text_identity(self, article_id: int) -> str | None:
        """The hash of the article's body with whitespace normalised: equal for copies of
        the same text (None for an unknown id)."""
        row = self.db.execute("SELECT body_hash FROM articles WHERE id=?",
                              [article_id]).fetchone()
        return str(row[0]) if row else None

    def all_articles(self) -> Iterator[StoredArticle]:
        """Every article, by id."""
        rows = self.db.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY id")
        for row in rows:
            yield StoredArticle(*row)

    def story_members(self, story_id: int) -> list[StoredArticle]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM articles WHERE story_id=?",
                                             [story_id])]
        return sorted(self.articles(ids).values(), key=lambda a: a.id)

    def latest_articles(self, limit: int, *, since: str | None = None,
                        until: str | None = None) -> list[StoredArticle]:
        """The newest stories (their first article). With `since`/`until` (ISO dates or
        timestamps, both ends included) only articles with a publication date in range."""
        where: list[str] = ["id = story_id"]
        params: list[str | int] = []
        if since:
            where.append("published_at >= ?")
            params.append(since)
        if until:
            where.append("substr(published_at, 1, ?) <= ?")
            params += [len(until), until]
        rows = self.db.execute(
            f"SELECT id FROM articles WHERE {' AND '.join(where)} "
            "ORDER BY COALESCE(published_at, ingested_at) DESC, id DESC LIMIT ?",
            [*params, limit],
        )
        found = self.articles(r[0] for r in rows)
        return sorted(found.values(), key=lambda a: (a.published_at or a.ingested_at, a.id),
                      reverse=True)

    def added_per_day(self, since: str) -> dict[tuple[str, str], int]:
        """How many articles were added on each day since `since` (an ISO date), by outlet
        ("" when unknown): {(YYYY-MM-DD, outlet): count}."""
        rows = self.db.execute(
            "SELECT substr(ingested_at, 1, 10) AS day, COALESCE(outlet, ''), COUNT(*) "
            "FROM articles WHERE ingested_at >= ? GROUP BY day, COALESCE(outlet, '')",
            [since])
        return {(day, outlet): int(count) for day, outlet, count in rows}

    # -- passages ---------------------------------------------------------------------

    def passages(self, ids: Iterable[int]) -> dict[int, PassageRow]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.execute(
            f"""SELECT p.id, p.article_id, a.story_id, p.seq, p.start, p.end, p.text
                FROM passages p JOIN articles a ON a.id = p.article_id
                WHERE p.id IN ({marks})""",
            wanted,
        )
        return {row[0]: PassageRow(*row) for row in rows}

    def passage_at(self, article_id: int, start: int, end: int) -> int | None:
        """The id of the article's passage that holds `body[start:end]`."""
        row = self.db.execute(
            "SELECT id FROM passages WHERE article_id=? AND start<=? AND end>=? LIMIT 1",
            [article_id, start, end]).fetchone()
        return int(row[0]) if row else None

    def passage_inputs(self) -> list[tuple[str, str]]:
        """(embed_key, embed input text) of every passage, one per distinct key."""
        rows = self.db.execute(
            """SELECT p.embed_key, a.title, p.text
               FROM passages p JOIN articles a ON a.id = p.article_id""")
        return list({key: embed_input(title, text) for key, title, text in rows}.items())

    def sentence_keys(self) -> list[tuple[str, str]]:
        """(key, embed input) of every sentence of every article, one per distinct key."""
        found: dict[str, str] = {}
        for title, body in self.db.execute("SELECT title, body FROM articles"):
            for _start, _end, text in sentence_inputs(title, body):
                found.setdefault(text_key(text), text)
        return list(found.items())

    def article_texts(self) -> Iterator[tuple[str, str]]:
        """(headline, body) of every article, by id."""
        yield from self.db.execute("SELECT title, body FROM articles ORDER BY id")

    def passage_sentence_keys(self) -> Iterator[tuple[int, list[str]]]:
        """(passage id, sentence-vector keys of the sentences it holds), article by article
        (`sentence_keys_of_passages`)."""
        articles = self.db.execute("SELECT id, title, body FROM articles ORDER BY id")
        for article_id, title, body in articles:
            spans = self.db.execute(
                "SELECT id, start, end FROM passages WHERE article_id=? ORDER BY start",
                [article_id]).fetchall()
            if not spans:
                continue
            yield from sentence_keys_of_passages(title, body, spans)

    def passage_keys(self) -> tuple[np.ndarray, list[str]]:
        """Every passage id (ascending) with the cache key of its vector."""
        rows = self.db.execute("SELECT id, embed_key FROM passages ORDER BY id").fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        return ids, [row[1] for row in rows]

    # -- lexical search ---------------------------------------------------------------

    def lexical_search(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """(passage id, BM25 score — higher is better) of the passages holding any of the
        terms, best first."""
        match = fts_query(terms)
        return self.fts_search(match, limit) if match else []

    def fts_search(self, match: str, limit: int) -> list[tuple[int, float]]:
        """(passage id, BM25 score — higher is better) for an FTS5 MATCH expression."""
        try:
            rows = self.db.execute(
                "SELECT rowid, -bm25(passages_fts, 2.0, 1.0) FROM passages_fts "
                "WHERE passages_fts MATCH ? ORDER BY bm25(passages_fts, 2.0, 1.0) LIMIT ?",
                [match, limit],
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [(int(r[0]), float(r[1])) for r in rows]

    def passage_frequency(self, term: str) -> int:
        """How many passages contain the word (after stemming): its document frequency."""
        try:
            row = self.db.execute("SELECT COUNT(*) FROM passages_fts WHERE passages_fts MATCH ?",
                                  ['"' + term.replace('"', "") + '"']).fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0])

    def has_term(self, term: str) -> bool:
        """Whether any passage or headline contains the word (after stemming)."""
        try:
            row = self.db.execute("SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? LIMIT 1",
                                  ['"' + term.replace('"', "") + '"']).fetchone()
        except sqlite3.OperationalError:
            return True
        return row is not None

    def similar_words(self, word: str, limit: int) -> list[tuple[str, int]]:
        """The vocabulary's words spelled closest to `word`, with how many articles use
        each (`index.vocabulary.closest` over the words of its first letter and length band).
        """
        word = word.lower()
        if not word:
            return []
        shortest, longest = length_band(len(word))
        rows = self.db.execute(
            "SELECT word, articles FROM vocabulary WHERE initial=? AND length BETWEEN ? AND ?",
            [word[0], shortest, longest]).fetchall()
        return closest(word, rows, limit)

    def search_titles(self, terms: list[str], limit: int) -> list[int]:
        """Article ids whose passages hold any of the terms, best first, one per story."""
        match = fts_query(terms)
        if not match:
            return []
        try:
            rows = self.db.execute(
                """WITH m AS MATERIALIZED (
                       SELECT rowid AS passage_id, bm25(passages_fts, 4.0, 1.0) AS score
                       FROM passages_fts WHERE passages_fts MATCH ?)
                   SELECT a.story_id, MIN(m.score) AS best FROM m
                   JOIN passages p ON p.id = m.passage_id
                   JOIN articles a ON a.id = p.article_id
                   GROUP BY a.story_id ORDER BY best LIMIT ?""",
                [match, limit],
            ).fetchall()
        except sqlite3.OperationalError:
            return []
        return [int(r[0]) for r in rows]

    # -- counts -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        def one(sql: str) -> int:
            return int(self.db.execute(sql).fetchone()[0])

        return {
            "articles": one("SELECT COUNT(*) FROM articles"),
            "stories": one("SELECT COUNT(DISTINCT story_id) FROM articles"),
            "passages": one("SELECT COUNT(*) FROM passages"),
        }

    def language_counts(self) -> dict[str, int]:
        """How many articles are in each language ("" for an unknown one), most first."""
        rows = self.db.execute("SELECT COALESCE(language, ''), COUNT(*) FROM articles "
                               "GROUP BY 1 ORDER BY 2 DESC, 1")
        return {language: count for language, count in rows}
