"""Composing the answer: the chosen sentences, each run of them from one source followed by
the `[n]` of that source.

The answer is extractive: sources are numbered in order of first use; each source's best
sentence comes first and its others follow in the article's order, all sharing its number.
Consecutive sentences of one source carry one marker at the end of the run
("… sentence. … sentence. [1]"), not one each.
Each citation quotes `body[start:end]` of its article exactly, names the retrieved passage
that holds the quote and the other outlets that ran the story ("also reported by").
"""

from __future__ import annotations

from index.qa.answer import Citation
from index.qa.sentences import Candidate
from index.storage import ArticleStore, StoredArticle
from index.text import one_line


def compose(chosen: list[Candidate], store: ArticleStore) -> tuple[str, list[Citation]]:
    """Answer text with one `[n]` marker after each run of one source, and its citations,
    numbered by source in order of first use (`store` gives each story's copies and the
    passage holding each quote)."""
    numbers: dict[int, int] = {}
    citations: list[Citation] = []
    best = {c.story_rank: c for c in sorted(chosen, key=lambda c: c.score)}  # top per source
    # The best sentence leads; the others of its source follow in the article's order.
    ordered = sorted(chosen, key=lambda c: (c.story_rank, best[c.story_rank] is not c, c.start))
    runs: list[tuple[int, list[str]]] = []  # (source number, its consecutive sentences)
    for candidate in ordered:
        story = candidate.story.story_id
        n = numbers.setdefault(story, len(numbers) + 1)
        existing = next((c for c in citations if c.n == n), None)
        if existing is None:
            passage_id = store.passage_at(candidate.story.article.id, candidate.start,
                                          candidate.end)
            citations.append(_citation_for(n, candidate, store.story_members(story),
                                           passage_id or _passage_of(candidate)))
        else:
            existing.spans.append((candidate.start, candidate.end))
            existing.quotes.append(candidate.story.article.body[candidate.start:candidate.end])
        if runs and runs[-1][0] == n:
            runs[-1][1].append(one_line(candidate.text))
        else:
            runs.append((n, [one_line(candidate.text)]))
    return " ".join(f"{' '.join(texts)} [{n}]" for n, texts in runs), citations


def _passage_of(candidate: Candidate) -> int:
    """The retrieved passage of the cited article holding the quoted sentence (else the
    article's first retrieved passage)."""
    article_id = candidate.story.article.id
    own = [hit for hit in candidate.story.hits if hit.article.id == article_id]
    for hit in own:
        if hit.passage.start <= candidate.start and candidate.end <= hit.passage.end:
            return hit.passage.id
    return (own or candidate.story.hits)[0].passage.id


def _citation_for(n: int, candidate: Candidate, twins: list[StoredArticle],
                  passage_id: int) -> Citation:
    article = candidate.story.article
    return Citation(
        n=n, article_id=article.id, passage_id=passage_id, title=article.title,
        origin=article.origin, url=article.url, outlet=article.outlet, author=article.author,
        published_at=article.published_at, quote=article.body[candidate.start : candidate.end],
        start=candidate.start, end=candidate.end, score=candidate.score,
        also_reported_by=[t.outlet or t.origin for t in twins if t.id != article.id],
        spans=[(candidate.start, candidate.end)],
        quotes=[article.body[candidate.start : candidate.end]],
    )
