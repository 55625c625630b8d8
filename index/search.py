"""Finding the passages that may answer a question: dense + lexical retrieval, fused.

Dense: the question's vector against the FAISS index (cosine). Lexical: SQLite FTS5 BM25
over passage text and headline. The two rankings are fused by reciprocal rank; passages of
one story (an article and its exact or near duplicates) share one slot, so a duplicated
article never crowds out a different source. Questions asking for the latest news favour
newer stories (`recency_boost`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice

import numpy as np

from index.storage import ArticleStore, PassageRow, StoredArticle, VectorIndex

STOPWORDS = frozenset(
    """a an the and or but if then than so of to in on at by for with from into onto about
    as is are was were be been being am do does did done have has had having it its it's this
    that these those there here what which who whom whose when where why how i me my we our you
    your he him his she her they them their not no nor can could would should will shall may
    might must also just only very more most much many some any each every all both either
    neither other such own same too s t don doesn didn up down out over under again further
    once per via did does tell say said according""".split()
    # Words that ask for recency describe the request, not the story (see recency_boost);
    # and "news" would match "new" once stemmed.
    + "news latest newest recent recently lately".split()
)
_WORD = re.compile(r"[\w][\w'’.-]*[\w]|\w", re.UNICODE)


def query_terms(text: str) -> list[str]:
    """Lower-cased content words of a question, in order, without duplicates."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        term = _content_word(word)
        if term:
            seen.setdefault(term, None)
    return list(seen)


@lru_cache(maxsize=65536)
def _content_word(word: str) -> str:
    """A lower-cased word as a term ("today’s" → "today"), or "" for a stopword or a
    single letter. Cached: a collection's vocabulary is small next to its running text."""
    word = word.replace("’", "'").strip(".'")
    if word.endswith("'s"):
        word = word[:-2]
    if word in STOPWORDS or (len(word) == 1 and word.isalpha()):
        return ""
    return word


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix-stripping stem ("ruling" → "rul", "sales" → "sal")."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=16384)
def stemmed_words(text: str) -> frozenset[str]:
    """The content words of a text, stemmed, a hyphenated word with its longer parts too
    (an article's "anti-racketeering" has the question's "racketeering"). Cached: the
    sentences and articles of a popular story recur across questions (16,384 texts, a few
    tens of MB at most)."""
    terms = query_terms(text)
    parts = [part for term in terms if "-" in term for part in term.split("-") if len(part) > 3]
    return frozenset(stem(word) for word in terms + parts)


_NAME_IN_QUESTION = re.compile(r"\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)+")
_PHRASE_WORD = re.compile(r"[\w-]+")


@lru_cache(maxsize=4096)
def _phrase_tokens(text: str) -> str:
    """A text as its lower-cased, stemmed words, possessives dropped, one space apart and at
    the ends too: " ibm blue gene l ", " academy award "."""
    words = _PHRASE_WORD.findall(re.sub(r"['’]s\b", "", text.lower()))
    return f" {' '.join(stem(word) for word in words)} "


def past_first_word(text: str) -> str:
    """The text without its first word, which is capitalised whatever it is."""
    first = re.match(r"\W*\w+", text)
    return text[first.end():] if first else text


def names_in(question: str) -> list[str]:
    """The names of several words a question gives ("Martyn Williams", "IBM's Blue Gene"),
    past its first word, as `_phrase_tokens`."""
    return [_phrase_tokens(m.group(0))
            for m in _NAME_IN_QUESTION.finditer(past_first_word(question))]


def names_missing(names: list[str], text: str) -> frozenset[str]:
    """The stems of the words of each name the text does not give whole: "Martyn Wood" and
    "Williams" are not "Martyn Williams"."""
    tokens = _phrase_tokens(text)
    return frozenset(word for name in names if name not in tokens for word in name.split())


def term_coverage(weights: dict[str, float], words: frozenset[str]) -> float:
    """The weighted share of the question's words (stem → weight, e.g. IDF) that a text
    has: an article that mentions the question's rarer details is likelier its source."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in words) / total


@dataclass(slots=True)
class Hit:
    """A retrieved passage with its article and the evidence for it."""

    passage: PassageRow
    article: StoredArticle
    score: float  # fused score (higher is better)
    dense: float  # cosine similarity with the question (0 if not found densely)
    lexical: float  # BM25 score (0 if not found lexically)
    top_of_retriever: bool = False  # among the first of the dense or the lexical ranking


def in_date_range(article: StoredArticle, since: str | None, until: str | None) -> bool:
    published = article.published_at
    if since and (not published or published < since):
        return False
    return not (until and (not published or published[: len(until)] > until))


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], rrf_k: int
) -> dict[int, float]:
    """Reciprocal-rank fusion of two rankings of passage ids."""
    fused: dict[int, float] = {}
    for ranking in (dense, lexical):
        for rank, (passage_id, _score) in enumerate(ranking):
            fused[passage_id] = fused.get(passage_id, 0.0) + 1.0 / (rrf_k + rank + 1)
    return fused


def _similarity(index: VectorIndex, passage_id: int, query_vector: np.ndarray) -> float:
    """Cosine similarity of a passage found only lexically (0 if it has no vector yet)."""
    vector = index.vector(passage_id)
    return 0.0 if vector is None else float(vector @ query_vector)


def retrieve(
    store: ArticleStore,
    index: VectorIndex,
    query_vector: np.ndarray,
    question: str,
    *,
    candidates: int,
    limit: int,
    rrf_k: int,
    per_story: int = 2,
    retriever_top: int = 0,
    since: str | None = None,
    until: str | None = None,
) -> list[Hit]:
    """The best `limit` passages for a question by fused score, at most `per_story` from
    one story. The first `retriever_top` passages of each ranking are always among them,
    marked `top_of_retriever`: a passage one retriever ranks first may fuse below passages
    both rank in the middle, and it is still worth a look."""
    widen = 4 if (since or until) else 1
    dense = index.search(query_vector, candidates * widen)
    lexical = store.lexical_search(query_terms(question), candidates * widen)
    fused = fuse(dense, lexical, rrf_k)
    dense_of, lexical_of = dict(dense), dict(lexical)
    passages = store.passages(fused)
    articles = store.articles(p.article_id for p in passages.values())

    def usable(passage_id: int) -> tuple[PassageRow, StoredArticle] | None:
        passage = passages.get(passage_id)
        if passage is None:  # the index is newer or older than the store: skip, never guess
            return None
        article = articles.get(passage.article_id)
        if article is None:  # the store changed between the two reads: skip, never guess
            return None
        return (passage, article) if in_date_range(article, since, until) else None

    top = [passage_id for ranking in (dense, lexical)
           for passage_id in islice((i for i, _ in ranking if usable(i)), retriever_top)]
    hits: list[Hit] = []
    per_story_count: dict[int, int] = {}
    seen_spans: set[tuple[int, int, int]] = set()
    for passage_id in dict.fromkeys(top + sorted(fused, key=lambda i: -fused[i])):
        found = usable(passage_id)
        if found is None:
            continue
        passage, article = found
        span = (passage.story_id, passage.start, passage.end)
        if per_story_count.get(passage.story_id, 0) >= per_story or span in seen_spans:
            continue  # exact duplicates of an article repeat its passages at the same offsets
        seen_spans.add(span)
        per_story_count[passage.story_id] = per_story_count.get(passage.story_id, 0) + 1
        dense_score = dense_of.get(passage_id)
        if dense_score is None:
            dense_score = _similarity(index, passage_id, query_vector)
        hits.append(Hit(passage, article, fused[passage_id], dense_score,
                        lexical_of.get(passage_id, 0.0), passage_id in top))
        if len(hits) >= limit:
            break
    hits.sort(key=lambda hit: -hit.score)
    return hits


@dataclass(slots=True)
class StoryEvidence:
    """One candidate story, scored on its best sentences: the unit of a citation slot."""

    story_id: int
    article: StoredArticle
    hits: list[Hit]
    spans: list[tuple[int, int]]  # every sentence of the article
    similarities: np.ndarray  # cosine of each sentence (headline as context) with the question
    score: float = 0.0
    # The closest sentence of the story's other copies (see `best_copy_per_story`).
    other_copies_similarity: float = 0.0

    @property
    def best_similarity(self) -> float:
        return float(self.similarities.max()) if len(self.similarities) else 0.0

    @property
    def story_similarity(self) -> float:
        """The closest sentence of any copy of the story."""
        return max(self.best_similarity, self.other_copies_similarity)


def rank_stories(
    hits: list[Hit],
    query_vector: np.ndarray,
    sentence_vectors: Callable[[StoredArticle], tuple[list[tuple[int, int]], np.ndarray]],
    *,
    stories: int,
    lexical_weight: float,
    dense_weight: float,
    term_weights: dict[str, float] | None = None,
    coverage_weight: float = 0.0,
    copies: Callable[[int], list[StoredArticle]] | None = None,
    names: list[str] | None = None,
) -> list[StoryEvidence]:
    """Re-rank the best `stories` candidate stories (and those of the hits that are
    `top_of_retriever`, wherever they fused) by their closest sentence, plus the
    lexical and passage-level evidence that brought them in, plus how much of the
    question's (weighted) words the whole article covers — the words of each of `names`
    (`names_in`) only where the article gives that name whole. Each copy of a story — those
    retrieved, and those `copies(story_id)` names — is scored on its own (near-duplicates
    differ: one may have the paragraph that answers); `best_copy_per_story` keeps the best
    one once the scores are final."""
    by_story: dict[int, list[Hit]] = {}
    for hit in hits:
        if (hit.passage.story_id in by_story or len(by_story) < stories
                or hit.top_of_retriever):
            by_story.setdefault(hit.passage.story_id, []).append(hit)
    by_copy: dict[tuple[int, int], tuple[StoredArticle, list[Hit]]] = {}
    for story_id, story_hits in by_story.items():
        for hit in story_hits:
            by_copy.setdefault((story_id, hit.article.id), (hit.article, []))[1].append(hit)
        if copies is not None:
            for article in copies(story_id):
                by_copy.setdefault((story_id, article.id), (article, []))
    top_lexical = max((h.lexical for h in hits), default=0.0) or 1.0
    ranked: list[StoryEvidence] = []
    for (story_id, _article_id), (article, copy_hits) in by_copy.items():
        spans, matrix = sentence_vectors(article)
        similarities = matrix @ query_vector if len(spans) else np.zeros(0, dtype=np.float32)
        evidence = StoryEvidence(story_id, article, copy_hits, spans, similarities)
        story_hits = by_story[story_id]  # the passages found are evidence for every copy
        evidence.score = (
            evidence.best_similarity
            + lexical_weight * max(h.lexical for h in story_hits) / top_lexical
            + dense_weight * max(h.dense for h in story_hits)
        )
        if term_weights and coverage_weight:
            text = f"{article.title}\n{article.body}"
            words = stemmed_words(text)
            if names:
                words = words - names_missing(names, text)
            evidence.score += coverage_weight * term_coverage(term_weights, words)
        ranked.append(evidence)
    ranked.sort(key=lambda e: -e.score)
    return ranked


def best_copy_per_story(ranked: list[StoryEvidence]) -> list[StoryEvidence]:
    """One evidence per story, best first: the highest-scoring copy, holding the hits of
    all its copies and the closest sentence among them (a copy under another headline can
    be the closer match, while this one has the answer)."""
    kept: dict[int, StoryEvidence] = {}
    for evidence in sorted(ranked, key=lambda e: -e.score):
        best = kept.get(evidence.story_id)
        if best is None:
            kept[evidence.story_id] = evidence
            continue
        best.hits.extend(evidence.hits)
        best.other_copies_similarity = max(best.other_copies_similarity,
                                           evidence.story_similarity)
    return list(kept.values())


# Words that ask for the newest news; "new" alone is left out ("the new bridge").
_RECENT = re.compile(
    r"\b(latest|most recent|recent|recently|newest|lately|this week|today|today's)\b", re.I
)
RECENCY_WEIGHT = 0.15
RECENCY_HALF_LIFE_DAYS = 7.0


def asks_for_recent(question: str) -> bool:
    """Whether the question asks for the latest news ("latest", "most recent", "today"…)."""
    return _RECENT.search(question) is not None


def recency_boost(
    stories: list[StoryEvidence],
    question: str,
    *,
    weight: float = RECENCY_WEIGHT,
    half_life_days: float = RECENCY_HALF_LIFE_DAYS,
) -> list[StoryEvidence]:
    """When the question asks for the latest news, favour newer stories: each story's score
    gains `weight` × ½^(days older than the newest candidate / `half_life_days`), so the
    newest candidate gains the full weight and undated stories nothing. Ages are measured
    from the newest candidate, not from today, so an archive of old news still has a
    "latest". Returns the stories re-sorted; unchanged when the question doesn't ask."""
    if not asks_for_recent(question):
        return stories
    published = {id(story): _published(story.article) for story in stories}
    newest = max((when for when in published.values() if when), default=None)
    if newest is None:
        return stories
    for story in stories:
        when = published[id(story)]
        if when is not None:
            age_days = (newest - when).total_seconds() / 86400
            story.score += weight * 0.5 ** (age_days / half_life_days)
    return sorted(stories, key=lambda story: -story.score)


def _published(article: StoredArticle) -> datetime | None:
    if not article.published_at:
        return None
    try:
        moment = datetime.fromisoformat(article.published_at)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
