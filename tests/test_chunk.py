"""Sentences and passages: never cut a sentence, always quote `body[start:end]` exactly."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from index.sources.chunk import estimate_tokens, make_passages, split_sentences

from .conftest import BBC


def test_sentences_respect_abbreviations_initials_and_decimals() -> None:
    body = 'Mr. J. K. Rowling earned $1.5bn. He said "It is good." U.S. officials left. Done!'
    sentences = [body[s.start : s.end] for s in split_sentences(body)]
    assert sentences == [
        "Mr. J. K. Rowling earned $1.5bn.",
        'He said "It is good."',
        "U.S. officials left.",
        "Done!",
    ]


def test_bullets_are_not_part_of_the_quote() -> None:
    body = "Key points\n\n• Huawei builds chips.\n\n- China wants independence."
    sentences = [body[s.start : s.end] for s in split_sentences(body)]
    assert sentences == ["Key points", "Huawei builds chips.", "China wants independence."]


def test_passages_cover_whole_sentences_within_budget() -> None:
    body = (BBC / "business" / "010.txt").read_text(encoding="utf-8").split("\n", 1)[1].strip()
    passages = make_passages(body, max_tokens=80, min_tokens=30)
    assert len(passages) > 2
    sentence_spans = {(s.start, s.end) for s in split_sentences(body)}
    for passage in passages:
        assert {(s.start, s.end) for s in passage.sentences} <= sentence_spans
        text = body[passage.start : passage.end]
        assert estimate_tokens(text) <= 80 or len(passage.sentences) == 1


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=600))
def test_every_span_is_a_verbatim_nonempty_slice(body: str) -> None:
    for passage in make_passages(body, max_tokens=20, min_tokens=5):
        assert 0 <= passage.start < passage.end <= len(body)
        assert body[passage.start : passage.end].strip()
        for sentence in passage.sentences:
            assert passage.start <= sentence.start < sentence.end <= passage.end
            quoted = body[sentence.start : sentence.end]
            assert quoted == quoted.strip()
