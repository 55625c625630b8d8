"""Near-duplicate articles: when two texts are one story, and finding them fast.

This module owns the rule that puts two articles in one story and the lookup that finds
the candidates. An article's body is cut into word 5-shingles (lower-cased words, punctuation
ignored); two bodies are near-duplicates when

* Jaccard similarity of their shingle sets ≥ `SAME_TEXT_JACCARD` (0.7): the same text with
  small edits (a new headline, spelling, a changed sentence), or
* ≥ `CONTAINED` (0.9) of the shorter body's shingles are in the longer one and Jaccard is
  at least `MIN_JACCARD` (0.5): a copy cut short or extended by a paragraph or two, or
* the two carry the same headline (case and spacing aside) and Jaccard is at least
  `MIN_JACCARD`: one report updated in place, a paragraph rewritten and another added.

Versions of a developing story that were partly rewritten (0.55–0.70 on the BBC corpus, e.g.
"Talks aim to avert pension strike" and "Stalemate in pension strike talks") stay separate
stories, so both can be cited. Numbers and examples: docs/duplicates.md.

Candidates come from MinHash (datasketch, 128 permutations) with LSH banding: 32 bands of 4
rows, each band hashed to one 64-bit bucket stored in the `story_bands` table. Two bodies
share a bucket with probability 1 − (1 − J⁴)³² (0.87 at J = 0.5, > 0.999 at J = 0.7); every
candidate is then checked exactly on its shingles, so a false candidate costs time, not
accuracy. The database functions run inside the caller's transaction.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import cache

import numpy as np

from index.text import plain_words

SHINGLE_WORDS = 5
SAME_TEXT_JACCARD = 0.7
CONTAINED = 0.9
MIN_JACCARD = 0.5

NUM_PERM = 128
BANDS = 32
ROWS = NUM_PERM // BANDS
_SEED = 1
_SCHEME = "affine32"  # pinned: buckets stored by one version must match the next one's


@dataclass(frozen=True, slots=True)
class Similarity:
    """How much two shingle sets overlap."""

    jaccard: float  # |A ∩ B| / |A ∪ B|
    containment: float  # |A ∩ B| / min(|A|, |B|)

    @property
    def near_duplicate(self) -> bool:
        return self.jaccard >= SAME_TEXT_JACCARD or (
            self.jaccard >= MIN_JACCARD and self.containment >= CONTAINED
        )

    def same_story(self, same_headline: bool) -> bool:
        """Near-duplicates, or an updated version under the same headline."""
        return self.near_duplicate or (same_headline and self.jaccard >= MIN_JACCARD)


def headline_key(title: str) -> str:
    """A headline compared case- and spacing-insensitively."""
    return " ".join(title.casefold().split())


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """An article body's shingles and LSH buckets, and its headline."""

    shingles: frozenset[str]
    buckets: tuple[int, ...]
    headline: str = ""

    @classmethod
    def of(cls, text: str, title: str = "") -> Fingerprint:
        found = shingles(text)
        return cls(found, lsh_buckets(minhash_signature(found)), headline_key(title))


def shingles(text: str) -> frozenset[str]:
    """The word 5-shingles of `text`; a text shorter than 5 words is one shingle."""
    words = plain_words(text.casefold())
    if len(words) <= SHINGLE_WORDS:
        return frozenset({" ".join(words)}) if words else frozenset()
    return frozenset(
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    )


def similarity(a: frozenset[str], b: frozenset[str]) -> Similarity:
    if not a or not b:
        return Similarity(0.0, 0.0)
    common = len(a & b)
    return Similarity(common / (len(a) + len(b) - common), common / min(len(a), len(b)))


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    from datasketch import MinHash  # with scipy, 0.7 s to import: only when fingerprinting

    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations


def minhash_signature(shingle_set: Iterable[str]) -> np.ndarray:
    """The MinHash signature (NUM_PERM hash values) of a shingle set."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME,
                      permutations=_permutations())
    minhash.update_batch([shingle.encode("utf-8") for shingle in shingle_set])
    return minhash.hashvalues


def lsh_buckets(signature: np.ndarray) -> tuple[int, ...]:
    """One signed 64-bit bucket per band: a hash of the band number and its rows."""
    buckets = []
    for band in range(BANDS):
        rows = np.ascontiguousarray(signature[band * ROWS : (band + 1) * ROWS], dtype="<u8")
        digest = hashlib.blake2b(bytes([band]) + rows.tobytes(), digest_size=8).digest()
        buckets.append(int.from_bytes(digest, "big", signed=True))
    return tuple(buckets)


# --- in the store ------------------------------------------------------------------------


def story_of_near_duplicate(db: sqlite3.Connection, fingerprint: Fingerprint, *,
                            exclude: Collection[int] = ()) -> int | None:
    """The story of the stored article (not in `exclude`) most similar to `fingerprint`, if
    one is a near-duplicate of it."""
    marks = ",".join("?" * len(fingerprint.buckets))
    candidates = [row[0] for row in db.execute(
        f"SELECT DISTINCT article_id FROM story_bands WHERE bucket IN ({marks})",
        list(fingerprint.buckets)) if row[0] not in exclude]
    best: tuple[float, int] | None = None
    for story_id, title, body in _stories_and_bodies(db, candidates):
        found = similarity(fingerprint.shingles, shingles(body))
        same_headline = bool(fingerprint.headline) and headline_key(title) == fingerprint.headline
        if found.same_story(same_headline) and (best is None or found.jaccard > best[0]):
            best = (found.jaccard, story_id)
    return best[1] if best else None


def remember(db: sqlite3.Connection, article_id: int, fingerprint: Fingerprint) -> None:
    """Make a stored article findable as a near-duplicate (its rows go with the article)."""
    db.executemany(
        "INSERT OR IGNORE INTO story_bands(bucket, article_id) VALUES(?, ?)",
        [(bucket, article_id) for bucket in fingerprint.buckets],
    )


def regroup(db: sqlite3.Connection, article_ids: list[int]) -> None:
    """Find new stories for the members of a story whose first article was deleted: in id
    order, each joins the story of its closest near-duplicate among the other articles
    (those still waiting to be regrouped left out), else heads a story of its own. A member
    that only duplicated the deleted article thus parts from the others."""
    texts = {row[0]: (row[1], row[2]) for row in db.execute(
        f"SELECT id, title, body FROM articles WHERE id IN ({','.join('?' * len(article_ids))})",
        article_ids).fetchall()}
    waiting = set(texts)
    for article_id in sorted(texts):
        title, body = texts[article_id]
        story = story_of_near_duplicate(db, Fingerprint.of(body, title), exclude=waiting)
        waiting.discard(article_id)
        db.execute("UPDATE articles SET story_id=? WHERE id=?",
                   [article_id if story is None else story, article_id])


def backfill(db: sqlite3.Connection) -> int:
    """Fingerprint articles stored before near-duplicate detection existed, in id order;
    an article that is a story of its own joins the story of an earlier near-duplicate.
    Returns how many articles joined a story."""
    joined = 0
    rows = db.execute(
        "SELECT id, title, body, story_id FROM articles "
        "WHERE id NOT IN (SELECT article_id FROM story_bands) ORDER BY id").fetchall()
    for article_id, title, body, story_id in rows:
        fingerprint = Fingerprint.of(body, title)
        if story_id == article_id and _is_alone(db, article_id):
            story = story_of_near_duplicate(db, fingerprint)
            if story is not None:
                db.execute("UPDATE articles SET story_id=? WHERE id=?", [story, article_id])
                joined += 1
        remember(db, article_id, fingerprint)
    return joined


def _stories_and_bodies(db: sqlite3.Connection, ids: list[int]
                        ) -> list[tuple[int, str, str]]:
    """(story id, title, body) of the articles `ids`, in id order."""
    if not ids:
        return []
    return db.execute(
        f"SELECT story_id, title, body FROM articles WHERE id IN ({','.join('?' * len(ids))}) "
        "ORDER BY id", ids).fetchall()


def join_updated_versions(db: sqlite3.Connection) -> int:
    """Schema 4: an article stored before the same-headline rule that heads a story of its
    own, and is by that rule one story with an earlier article, joins that article's story.
    Returns how many joined."""
    by_headline: dict[str, list[int]] = {}
    for article_id, title in db.execute("SELECT id, title FROM articles ORDER BY id"):
        by_headline.setdefault(headline_key(title), []).append(article_id)
    joined = 0
    for ids in by_headline.values():
        if len(ids) < 2:
            continue
        members = {row[0]: row[1:] for row in db.execute(
            f"SELECT id, story_id, body FROM articles WHERE id IN ({','.join('?' * len(ids))})",
            ids)}
        for position, article_id in enumerate(ids):
            story_id, body = members[article_id]
            if story_id != article_id or not _is_alone(db, article_id):
                continue
            shingle_set = shingles(body)
            for earlier in ids[:position]:
                if similarity(shingle_set, shingles(members[earlier][1])).same_story(True):
                    members[article_id] = (members[earlier][0], body)
                    db.execute("UPDATE articles SET story_id=? WHERE id=?",
                               [members[earlier][0], article_id])
                    joined += 1
                    break
    return joined


def _is_alone(db: sqlite3.Connection, article_id: int) -> bool:
    return db.execute("SELECT COUNT(*) FROM articles WHERE story_id=?",
                      [article_id]).fetchone()[0] == 1
