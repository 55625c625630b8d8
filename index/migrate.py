"""`citebot migrate`: copy a collection into another backend (PostgreSQL) without embedding
anything again, then check the copy.

The target must be empty. The vectors every passage and sentence needs are copied from the
source's embedding cache first (each slice commits on its own, like an embedding run); then,
in ONE transaction of the target, the sources, the followed feeds and every article (same
ids and timestamps; passages and stories made again the same way) are stored and a vector
index is built from the copied cache — a run that fails or is killed leaves the target as
empty as it was. Afterwards the counts of articles, stories, passages and vectors must
match, and a sample of questions (headlines of articles spread over the collection) must
be answered from the same articles.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from index.library import Library
from index.reports import Progress, ProgressCallback
from index.vectors.embedding_inputs import sentence_model

COPY_SLICE = 5000


class MigrationError(RuntimeError):
    """The target can't take the collection, or the copy does not match it."""


@dataclass
class MigrationReport:
    """What was copied and what the checks found."""

    articles: int = 0
    vectors_copied: int = 0
    embedded: int = 0  # texts embedded during the copy: 0 when the cache was complete
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # name: (source, copy)
    answers_compared: int = 0
    answers_same: int = 0
    different: list[str] = field(default_factory=list)  # questions answered differently

    @property
    def counts_match(self) -> bool:
        return all(source == copy for source, copy in self.counts.values())


def migrate(source: Library, target: Library, *, sample: int = 5,
            progress: ProgressCallback | None = None) -> MigrationReport:
    """Copy `source` into the empty `target` (see the module). Raises `MigrationError`
    when the target holds articles already."""
    held = target.store.counts()["articles"]
    if held:
        raise MigrationError(f"the target already holds {held} articles: migrate into an "
                             "empty database")
    report = MigrationReport()
    report.vectors_copied = _copy_vectors(source, target, progress)
    with target.store.transaction():
        for path in source.store.sources("path"):
            target.store.add_source(path, "path")
        for feed in source.store.feeds():
            target.store.add_feed(feed.url, feed.title)
            target.store.record_feed_poll(feed.url, title=feed.title, etag=feed.etag,
                                          modified=feed.modified)
        for article in source.store.all_articles():
            target.store.import_article(  # type: ignore[attr-defined]
                article, max_tokens=target.settings.max_passage_tokens)
            report.articles += 1
            if progress and report.articles % 200 == 0:
                progress(Progress("copying articles", report.articles, 0))
        built = target.ingest([], build_index=True, progress=progress)
    report.embedded = built.embedded + built.embedded_sentences
    _compare_counts(source, target, report)
    _compare_answers(source, target, report, sample)
    return report


def _copy_vectors(source: Library, target: Library,
                  progress: ProgressCallback | None) -> int:
    """Copy the cached vectors the source's passages and sentences use; returns how many."""
    model = source.settings.model
    wanted = [(sentence_model(model), [key for key, _text in source.store.sentence_keys()])]
    if source.settings.passage_vectors != "sentence-mean":
        wanted.append((model, [key for key, _text in source.store.passage_inputs()]))
    copied = 0
    for namespace, keys in wanted:
        for first in range(0, len(keys), COPY_SLICE):
            found = source.cache.get(namespace, keys[first : first + COPY_SLICE])
            if found:
                names = list(found)
                target.cache.save(namespace, names, np.stack([found[k] for k in names]))
                copied += len(names)
            if progress:
                progress(Progress("copying vectors", copied, len(keys)))
    return copied


def _compare_counts(source: Library, target: Library, report: MigrationReport) -> None:
    before, after = source.store.counts(), target.store.counts()
    for name in ("articles", "stories", "passages"):
        report.counts[name] = (before[name], after[name])
    report.counts["vectors"] = (source.generations.record().vectors,
                                target.generations.record().vectors)


def sample_questions(library: Library, count: int) -> list[str]:
    """Headlines of `count` articles spread evenly over the collection, as questions."""
    titles = [article.title for article in library.store.all_articles()]
    if not titles or count <= 0:
        return []
    step = max(1, len(titles) // count)
    return titles[::step][:count]


def _cited(library: Library, question: str) -> tuple[bool, tuple[str, ...]]:
    """Whether the library abstains on a question, and the articles its answer cites."""
    answer = library.ask(question)
    return answer.abstained, tuple(dict.fromkeys(c.origin for c in answer.citations))


def _compare_answers(source: Library, target: Library, report: MigrationReport,
                     sample: int) -> None:
    for question in sample_questions(source, sample):
        report.answers_compared += 1
        if _cited(source, question) == _cited(target, question):
            report.answers_same += 1
        else:
            report.different.append(question)
