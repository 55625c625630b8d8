"""Whether the passages a generated sentence cites support it, and which sentences do.

A sentence is supported by a group of passages when
1. every figure, date, year and name it states is in them (`index.reader.facts`);
2. its content words are covered by them (share ≥ `coverage`, stems compared);
3. its meaning is close to one of their sentences, or two sentences in a row: cosine of the
   embedding model's vectors ≥ `similarity` (calibrated by bench/verifier_bench.py);
4. it says nothing went up where its closest support says it went down, or the reverse;
5. it has no more negations than its closest support ("not", "never", "n't"…).
The closest sentences are what its citation quotes. A sentence that fails with the passages it
cites is tried against each other retrieved passage on its own (re-attribution).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from index.reader.facts import Facts, missing
from index.reader.prompt import is_instruction_like
from index.reader.stream import GeneratedSentence
from index.sources.chunk import split_sentences
from index.storage import PassageRow, StoredArticle
from index.text import query_terms, stem

Span = tuple[int, int]
Embed = Callable[[Sequence[str]], np.ndarray]

# Calibrated on the verifier set (docs/llm-reader.md).
DEFAULT_SIMILARITY = 0.68
DEFAULT_COVERAGE = 0.6
PAIR_MARGIN = 0.03  # a two-sentence quote must be this much closer than one sentence

_UP = re.compile(r"\b(?:r[io]se|rising|risen|increas\w*|grew|grow\w*|gain\w*|up|climb\w*|"
                 r"jump\w*|soar\w*|higher|more|won|win\w*)\b", re.IGNORECASE)
_DOWN = re.compile(r"\b(?:f[ae]ll\w*|drop\w*|decreas\w*|declin\w*|shr[ai]nk\w*|down|"
                   r"lower|less|fewer|lost|los[ei]\w*|slump\w*|plung\w*)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:not|no|never|nor|neither|none|nobody|nothing|without|cannot)\b"
                       r"|n['’]t\b", re.IGNORECASE)


@dataclass(slots=True)
class SupportPassage:
    """A retrieved passage as evidence: its number in the prompt, its article, and its
    sentences (spans of the article's body; sentences that address an assistant left out)."""

    n: int
    passage: PassageRow
    article: StoredArticle
    score: float
    sentences: list[Span]
    facts: Facts
    stems: frozenset[str]
    vectors: np.ndarray | None = None  # of each sentence, then of each two in a row

    @classmethod
    def of(cls, n: int, passage: PassageRow, article: StoredArticle, score: float
           ) -> SupportPassage:
        body = article.body
        spans = [(s.start, s.end) for s in split_sentences(body, passage.start, passage.end)
                 if not is_instruction_like(body[s.start:s.end])]
        text = " ".join(body[a:b] for a, b in spans)
        evidence = f"{article.title}. {text}"
        return cls(n, passage, article, score, spans, Facts.of(evidence), _stems(evidence))

    @property
    def text(self) -> str:
        return " ".join(self.article.body[a:b] for a, b in self.sentences)

    def windows(self) -> list[list[Span]]:
        """Each sentence, then each two sentences in a row (the order of `vectors`)."""
        single = [[span] for span in self.sentences]
        pairs = [[a, b] for a, b in zip(self.sentences, self.sentences[1:], strict=False)]
        return single + pairs

    def window_vectors(self, embed: Embed) -> np.ndarray:
        if self.vectors is None:
            body = self.article.body
            texts = [" ".join(body[a:b] for a, b in window) for window in self.windows()]
            self.vectors = _normalised(embed(texts)) if texts else np.zeros((0, 1), np.float32)
        return self.vectors


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _reverses_direction(claim: str, support: str) -> bool:
    """The claim says up (down) where the support only says down (up)."""
    up, down = bool(_UP.search(claim)), bool(_DOWN.search(claim))
    support_up, support_down = bool(_UP.search(support)), bool(_DOWN.search(support))
    return (up and not down and support_down and not support_up) or \
        (down and not up and support_up and not support_down)


def _stems(text: str) -> frozenset[str]:
    return frozenset(stem(term) for term in query_terms(text))


@dataclass(slots=True)
class Verdict:
    """The outcome for one sentence: supported or not (and why), the passages that support
    it (its own or another, `reattributed`) and the spans each quotes."""

    supported: bool
    reason: str = ""
    passages: tuple[int, ...] = ()
    quotes: dict[int, list[Span]] = field(default_factory=dict)
    similarity: float = 0.0
    reattributed: bool = False


@dataclass(frozen=True, slots=True)
class Verifier:
    """Checks generated sentences against retrieved passages."""

    embed: Embed
    similarity: float = DEFAULT_SIMILARITY
    coverage: float = DEFAULT_COVERAGE

    def check(self, sentence: GeneratedSentence, passages: Sequence[SupportPassage]
              ) -> Verdict:
        """The verdict on `sentence` given the passages of the prompt (numbered from 1)."""
        by_number = {p.n: p for p in passages}
        if not sentence.cited:
            return Verdict(False, "no citation")
        cited = [by_number[n] for n in sentence.cited if n in by_number]
        if not cited:
            return Verdict(False, "citation out of range")
        vector = _normalised(self.embed([sentence.text]))[0]
        verdict = self.supports(sentence.text, cited, vector)
        if verdict.supported:
            return verdict
        for other in passages:
            if other in cited:
                continue
            moved = self.supports(sentence.text, [other], vector)
            if moved.supported:
                moved.reattributed = True
                return moved
        return verdict

    def supports(self, text: str, group: Sequence[SupportPassage],
                 vector: np.ndarray | None = None) -> Verdict:
        """Whether the passages of `group` together support the sentence `text`."""
        facts = Facts.of(text)
        evidence = Facts(
            figures=frozenset().union(*(p.facts.figures for p in group)),
            dates=frozenset().union(*(p.facts.dates for p in group)),
            names=frozenset().union(*(p.facts.names for p in group)),
            words=frozenset().union(*(p.facts.words for p in group)))
        lacking = missing(facts, evidence)
        if lacking:
            return Verdict(False, "unsupported " + ", ".join(sorted(lacking)[:3]))
        stems = _stems(text)
        if stems:
            known = frozenset().union(*(p.stems for p in group))
            covered = len(stems & known) / len(stems)
            if covered < self.coverage:
                return Verdict(False, f"content words covered {covered:.2f}")
        if vector is None:
            vector = _normalised(self.embed([text]))[0]
        best_passage, best_window, best = self._closest(vector, group)
        if best_passage is None or best < self.similarity:
            return Verdict(False, f"similarity {best:.2f}", similarity=best)
        quote = best_passage.windows()[best_window]
        body = best_passage.article.body
        if len(_NEGATION.findall(text)) > sum(len(_NEGATION.findall(body[a:b]))
                                               for a, b in quote):
            return Verdict(False, "negation not in the source", similarity=best)
        quoted = " ".join(body[a:b] for a, b in quote)
        if _reverses_direction(text, quoted):
            return Verdict(False, "direction not in the source", similarity=best)
        quotes = {best_passage.n: list(quote)}
        quotes.update(self._fact_quotes(facts, group, quotes))
        return Verdict(True, "", tuple(quotes), quotes, best)

    def _closest(self, vector: np.ndarray, group: Sequence[SupportPassage]
                 ) -> tuple[SupportPassage | None, int, float]:
        """The passage and window closest to `vector`; a pair of sentences only when it is
        clearly closer than the best single one (so quotes stay short)."""
        best: tuple[SupportPassage | None, int, float] = (None, 0, -1.0)
        for passage in group:
            vectors = passage.window_vectors(self.embed)
            if not len(vectors):
                continue
            scores = vectors @ vector
            singles = len(passage.sentences)
            index = int(np.argmax(scores[:singles]))
            if len(scores) > singles:
                pair = singles + int(np.argmax(scores[singles:]))
                if scores[pair] > scores[index] + PAIR_MARGIN:
                    index = pair
            if scores[index] > best[2]:
                best = (passage, index, float(scores[index]))
        return best

    @staticmethod
    def _fact_quotes(facts: Facts, group: Sequence[SupportPassage],
                     quotes: dict[int, list[Span]]) -> dict[int, list[Span]]:
        """Sentences that give a figure, date or name of the claim which the closest
        support does not, so that every fact stated is quoted."""
        extra: dict[int, list[Span]] = {}
        quoted = " ".join(p.article.body[a:b] for p in group for a, b in quotes.get(p.n, []))
        lacking = set(missing(facts, Facts.of(quoted)))
        for passage in group:
            if not lacking:
                break
            for a, b in passage.sentences:
                if (passage.n, (a, b)) in {(n, s) for n, spans in quotes.items()
                                            for s in spans}:
                    continue
                gives = lacking - set(missing(facts, Facts.of(passage.article.body[a:b])))
                if gives:
                    extra.setdefault(passage.n, list(quotes.get(passage.n, []))).append((a, b))
                    lacking -= gives
        return extra
