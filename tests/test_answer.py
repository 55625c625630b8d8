"""The answer step's own rules: what a question asks for, which sentence offers it, how
question words are weighted, the features the fitted answer model reads (among them the
signals to decline), and how it chooses sentences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.library import Library
from index.qa.abstain import absent_figures
from index.qa.evidence import StoryEvidence
from index.qa.facts import (
    counts_noun,
    fills_slot,
    new_fact_spans,
    offers_new_fact,
)
from index.qa.features import (
    FEATURES,
    CandidateRows,
    asks_who_reported,
    distinctive_weights,
    sentence_features,
)
from index.qa.model import AnswerModel, decide, select_sentences
from index.qa.question import (
    Question,
    counted_noun,
    expected_answer_kind,
)
from index.qa.sentences import Candidate, restates
from index.qa.spelling import corrected, corrections
from index.qa.stories import term_coverage
from index.qa.tuning import AnswerTuning
from index.settings import Settings
from index.storage import StoredArticle
from index.text import names_in, names_missing, phrase_tokens, stemmed_words
from index.vocabulary import article_words, closest


@pytest.mark.parametrize(("question", "kind"), [
    ("How many copies did the single sell in its first week?", "count"),
    ("How much did the club pay?", "money"),
    ("How much crude does the country pump each day?", "number"),
    ("By how much did tourist revenues rise in 2004?", "number"),  # money or a percentage
    ("What odds did a bookmaker give on the novel taking the prize?", "number"),
    ("At what time will Brown deliver his Budget?", "number"),
    ("What was the score in England's defeat by Ireland?", "score"),
    ("What price tag have Inter Milan put on their striker?", "money"),
    ("When will the winner be announced?", "date"),
    ("On what date did the minister tell MPs?", "date"),
    ("In what year did the former premier win the rebate?", "year"),
    ("Why did the dollar slide on Thursday?", "reason"),
    ("Where in north London is the developer headquartered?", "place"),
    ("In which County Durham town does the firm build ovens?", "place"),
    ("Who will direct the film about Ian Curtis?", "person"),
    ("Which BT executive have the Liberal Democrats brought in?", "person"),
    ("Who took over from Jonathan Ross when he left the corporation?", "person"),
    ("Which BBC One show won two awards?", "name"),
    ("What is the name of the memory test game on the DVD?", "name"),
    ("Which uncapped Wrexham defender was drafted into the squad?", "person"),
    ("Which constituency has veteran Labour MP Jack Cunningham represented?", "name"),
    ("What did the big-screen remake cost to make?", "money"),
    ("Where does the firm expect the base rate to stand by 2006?", "number"),  # a level
    ("Where will the FTSE index close?", "number"),
    ("Where will the council hold its April meeting?", "place"),
    ("By what margin did the appeals judges vote?", "score"),
    ("What was the final score in Dublin?", "score"),
    ("By what score did the sevens side win the final?", "score"),
    ("What will the painting fetch at auction?", "money"),
    ("What did the costume designer say?", None),
    ("What opened off the island of Skerra?", None),  # a thing, not a place
    ("What did the man say?", None),
    ("Tell me about the floods.", None),
])
def test_expected_answer_kind(question: str, kind: str | None) -> None:
    assert expected_answer_kind(question) == kind


@pytest.mark.parametrize(("question", "noun"), [
    ("How many countries could benefit from the G7 plan?", "countri"),
    ("How many new construction jobs were added in October?", "jobs"),
    ("How many strains of the Symbian worm have been identified?", "strain"),
    ("Into how many languages does the virus translate its subject line?", "languag"),
    ("How many extra homes a year does Britain need?", "home"),
    ("How many of its own shares is the group offering?", None),  # no noun to count
    ("How much did the club pay?", None),
])
def test_counted_noun(question: str, noun: str | None) -> None:
    assert counted_noun(question) == noun


def test_a_figure_right_before_the_counted_noun_is_the_count() -> None:
    facts = Question.of("How many countries could benefit from the G7 plan?")
    assert counts_noun(facts.counted, "Some 37 countries could benefit after a review.",
                       facts.asked)
    assert counts_noun(facts.counted, "As many as 51 million poor countries.", facts.asked)
    assert not counts_noun(facts.counted, "G7 countries backed it.", facts.asked)  # a name
    assert not counts_noun(facts.counted, "It will cost $10bn, countries say, over a decade "
                           "of payments.", facts.asked)  # the figure counts something else
    assert not counts_noun(None, "Some 37 countries.", facts.asked)


def test_a_new_fact_right_after_the_preposition_the_question_opens_with() -> None:
    club = Question.of("Against which club did Chelsea's Dutch winger fracture his foot?")
    assert club.preposition == "against"
    slot = "He has been out since breaking a foot against Blackburn last month."
    assert fills_slot(new_fact_spans(club.kind, slot, club.asked), slot, club.preposition)
    elsewhere = "Arjen Robben has broken two bones and will miss the game against them."
    assert not fills_slot(new_fact_spans(club.kind, elsewhere, club.asked), elsewhere,
                          club.preposition)
    hall = Question.of("At which Tyneside concert hall did the chancellor speak?")
    slot = "He spoke at the Sage Centre in Gateshead."  # an article may stand between
    assert fills_slot(new_fact_spans(hall.kind, slot, hall.asked), slot, hall.preposition)
    assert Question.of("Which club did he join?").preposition is None


def test_a_new_name_is_the_fact_a_who_question_asks_for() -> None:
    facts = Question.of("Who will direct the film about Joy Division singer Ian Curtis?")
    sentence = "The film is to be directed by Dutch-born Anton Corbijn, who made U2's videos."
    spans = new_fact_spans(facts.kind, sentence, facts.asked)
    assert [sentence[a:b] for a, b in spans] == ["Dutch-born Anton Corbijn"]


def test_due_to_gives_a_cause_before_a_noun_and_a_schedule_before_a_verb() -> None:
    why = Question.of("Why did Uganda ban the play?")
    assert why.kind == "reason"
    for cause in ("The match was called off due to the storm.",
                  "Profits fell due to falling sales.", "It was delayed due to Sony.",
                  "Flights stopped due to safety concerns."):
        assert offers_new_fact(why.kind, cause, why.asked), cause
    for schedule in ("The play was due to open in Kampala this weekend.",
                     "The firm is due to be sold next year.", "Talks are due to start."):
        assert not offers_new_fact(why.kind, schedule, why.asked), schedule


def test_a_new_fact_of_the_asked_kind_counts_and_a_restated_question_does_not() -> None:
    question = "Who will direct the film about Joy Division singer Ian Curtis?"
    facts = Question.of(question)
    assert offers_new_fact(facts.kind, "The film is to be directed by Dutch-born Anton "
                           "Corbijn.", facts.asked)
    assert not offers_new_fact(facts.kind, "The life of Joy Division singer Ian Curtis is to "
                               "be made into a film.", facts.asked)
    count = Question.of("How many strains of the worm have been found?")
    assert offers_new_fact(count.kind, "So far seven versions are known.", count.asked)
    assert offers_new_fact(count.kind, "It was sent by 28 of the largest firms.", count.asked)
    assert not offers_new_fact(count.kind, "The worm spreads by Bluetooth.", count.asked)
    # A year, a date or a label is no count of anything.
    assert not offers_new_fact(count.kind, "It came to light in mid-June 2004 when it was "
                               "sent to firms.", count.asked)
    assert not offers_new_fact(count.kind, "It affects Series 60 phone software.",
                               count.asked)
    g7 = Question.of("How many countries could benefit from the G7 plan?")
    assert not offers_new_fact(g7.kind, "G7 ministers backed the plan.", g7.asked)  # a name
    assert offers_new_fact(g7.kind, "Some 37 countries could benefit.", g7.asked)
    score = Question.of("What was the score in England's defeat by Ireland?")
    assert offers_new_fact(score.kind, "England were beaten 19-13 in Dublin.", score.asked)
    assert not offers_new_fact(score.kind, "The 2004-05 season ended with 13 wins.",
                               score.asked)  # a season and a count are not a score
    year = Question.of("In what year did Margaret Thatcher win the rebate?")
    assert offers_new_fact(year.kind, "The rebate was secured in 1984.", year.asked)
    assert not offers_new_fact(year.kind, "The UK pays 14 times as much.", year.asked)
    money = Question.of("What did the remake of the puppet series cost to make?")
    for sum_of_money in ("The film cost $42m (£22m).", "It cost US$3.5bn.", "It cost 90p.",
                         "Fans paid 250,000 dollars.", "It cost €1.5 billion to make."):
        assert offers_new_fact(money.kind, sum_of_money, money.asked), sum_of_money
    for other_figure in ("I'm only 27 and don't remember the series.", "It is Joe 90.",
                         "It made 12 films in 2004."):
        assert not offers_new_fact(money.kind, other_figure, money.asked), other_figure
    oscars = Question.of("For which film did the conductor win his own Oscars?")
    assert not offers_new_fact(oscars.kind, "He conducted at the Oscar night.",
                               oscars.asked)  # "Oscar" is the question's "Oscars"
    assert offers_new_fact(oscars.kind, "He won for The Right Stuff.", oscars.asked)
    place = Question.of("Where is the games developer headquartered?")
    assert offers_new_fact(place.kind, "It has 80 workers at its base in Edgware.", place.asked)
    assert not offers_new_fact(place.kind, "The games developer has collapsed.", place.asked)


def test_distinctive_weights_favour_words_few_sentences_have() -> None:
    sentences = [stemmed_words(s) for s in (
        "Joy Division's singer Ian Curtis is to be the subject of a film.",
        "Joy Division were signed to Factory Records.",
        "The film is to be directed by Anton Corbijn.",
    )]
    weights = distinctive_weights(["directed", "joy", "division"], sentences)
    assert weights["direct"] > weights["joy"] == weights["division"]


def test_term_coverage_is_the_weighted_share_of_question_words_present() -> None:
    weights = {"spennymoor": 3.0, "oven": 1.0}
    assert term_coverage(weights, stemmed_words("Cookers and ovens in Spennymoor.")) == 1.0
    assert term_coverage(weights, stemmed_words("It makes ovens.")) == 0.25
    assert term_coverage({}, stemmed_words("anything")) == 0.0
    # A hyphenated word holds its parts: the question's "racketeering" is in the article.
    racketeering = {"racketeer": 1.0}
    assert term_coverage(racketeering, stemmed_words("under anti-racketeering laws")) == 1.0
    assert "anti-racketeer" in stemmed_words("under anti-racketeering laws")


def test_a_name_of_the_question_counts_only_where_it_stands_whole() -> None:
    question = ("Which Ospreys back-rower looked in line for a debut when Martyn Williams "
                "seemed likely to miss the England match against IBM's Blue Gene/L?")
    names = names_in(question)
    assert names == [" martyn william ", " ibm blue gene "]  # stemmed; not "Which Ospreys"
    other_people = "Martyn Wood is injured, so Williams starts against IBM Blue Gene."
    assert names_missing(names, phrase_tokens(other_people)) == {"martyn", "william"}
    assert names_missing(names, phrase_tokens("Martyn Williams' knee. IBM's Blue Gene/L won.")
                         ) == set()
    weights = {"martyn": 1.0, "william": 1.0, "osprey": 2.0}
    text = f"Ospreys. {other_people}"
    assert term_coverage(weights, stemmed_words(text)) == 1.0
    assert term_coverage(weights, stemmed_words(text) - names_missing(names, text)) == 0.5
    assert names_in("Who won?") == []


def _story(body: str, similarities: list[float]) -> StoryEvidence:
    article = StoredArticle(id=1, origin="a.txt", url=None, title="T", outlet=None,
                            author=None, published_at=None, body=body, story_id=1,
                            ingested_at="", updated_at="")
    spans, start = [], 0
    for sentence in body.split("|"):
        spans.append((start, start + len(sentence)))
        start += len(sentence) + 1
    return StoryEvidence(1, article, [], spans, np.array(similarities, dtype=np.float32))


def _rows(question: str, stories: list[StoryEvidence],
          in_collection: Callable[[str], bool] = lambda term: True) -> CandidateRows:
    return sentence_features(Question.of(question), stories,
                             {story.story_id: [] for story in stories}, [0.5] * len(stories),
                             list(range(len(stories))), AnswerTuning(), in_collection)


def _column(rows: CandidateRows, name: str) -> list[float]:
    return [round(float(value), 4) for value in rows.matrix[:, FEATURES.index(name)]]


def test_a_rare_question_word_in_the_story_counts_more_than_its_subject() -> None:
    story = _story("Joy Division played in Manchester.|"
                   "The film is to be directed by him.|"
                   "Joy Division were signed to a record label.|"
                   "Joy Division toured Europe.",
                   [0.60, 0.60, 0.50, 0.50])
    rows = _rows("Who will direct the film about Joy Division?", [story])
    plain, distinctive = _column(rows, "lexical_share"), _column(rows, "distinctive_share")
    assert plain[0] == pytest.approx(plain[1])  # two of the question's words each
    assert distinctive[1] > distinctive[0]


def test_a_sentence_is_read_with_its_neighbours() -> None:
    story = _story("Huawei is building AI chips for inference.|"
                   "Its most recent chip is the Ascend 910C.|"
                   "Shares rose on Monday in Shenzhen.", [0.7, 0.4, 0.1])
    rows = _rows("What is Huawei's newest AI chip?", [story])
    assert _column(rows, "previous_similarity") == [0.0, 0.7, 0.4]
    assert _column(rows, "next_similarity") == [0.4, 0.1, 0.0]
    # "Huawei" is in the sentence before: the second sentence has it in its context.
    assert _column(rows, "context_share")[1] > _column(rows, "lexical_share")[1]


def test_an_attribution_answers_who_reported() -> None:
    assert asks_who_reported("Who first reported Huawei's plan?")
    assert asks_who_reported("which paper said the deal was off")
    assert not asks_who_reported("Who is the chief executive of Huawei?")
    story = _story("According to the Financial Times, Huawei will focus on inference.|"
                   "The company makes phones and network equipment.", [0.6, 0.5])
    assert _column(_rows("Who first reported Huawei's plan?", [story]),
                   "attribution") == [1.0, 0.0]


def test_the_signals_to_decline() -> None:
    close = _story("Close to the question, this sentence is long enough.", [0.70])
    assert _column(_rows("What did Zorblax do?", [close], lambda term: False),
                   "unknown_terms") == [1.0]
    assert _column(_rows("What did Zorblax do?", [close]), "unknown_terms") == [0.0]
    assert _column(_rows("How many sold in September 2005?", [close]), "absent_year") == [1.0]
    dated = _story("It sold 10,000 copies last month.", [0.70])
    dated.article = replace(dated.article, published_at="2005-10-01")
    assert _column(_rows("How many sold in September 2005?", [dated]),
                   "absent_year") == [0.0]  # its date names the year
    in_2005 = _story("It sold 10,000 copies in 2005.", [0.70])
    assert _column(_rows("How many sold in September 2005?", [in_2005]),
                   "absent_year") == [0.0]


@pytest.mark.parametrize(("question", "body", "absent"), [
    ("How many PlayStation 3 consoles were sold?", "It sold 10,000 PlayStation consoles.",
     ["3"]),
    ("How many PlayStation 3 consoles were sold?", "It sold 10,000 PlayStation 3 consoles.",
     []),
    ("Who won the third test?", "England won the test at Lord's on Friday.", ["third"]),
    ("Who won the third test?", "England won the 3rd test at Lord's on Friday.", []),
    ("Why did 15 people leave?", "Fifteen people left the firm.", []),
    ("Who came 6th?", "He came sixth in the final.", []),
    ("What did the 10000 fans do?", "The 10,000 fans sang.", []),
    ("Who won the 800m?", "She won the 800m in Madrid.", []),
    ("How long is a 26.2 mile race?", "The marathon is 26.2 miles long, it said.", []),
    ("Who won the 800m?", "She won the 1,800m in Madrid.", ["800m"]),
    ("What did the firm earn in 2005?", "The firm said it earned £5m last year.", []),  # a year
    ("Who first reported it?", "The BBC reported it.", []),
])
def test_a_figure_the_story_never_writes(question: str, body: str, absent: list[str]) -> None:
    """A figure of the question, in any of its forms (digits, number word, ordinal), that
    the story never writes is a sign the story is about something else."""
    story = _story(body, [0.7])
    assert absent_figures(Question.of(question), story) == absent
    assert _column(_rows(question, [story]), "absent_figure") == [float(bool(absent))]


def test_the_fitted_model_declines_on_those_signals() -> None:
    """The stored model weighs each signal to decline the way it should, and a question
    with no candidates, or one whose story lacks the year asked about, is declined."""
    model = AnswerModel.load()
    for signal in ("unknown_terms", "absent_year", "absent_figure"):
        assert model.answer_weights[signal] < 0, signal
    assert decide(_rows("What happened?", []), np.zeros(0), model, AnswerTuning()).abstained
    story = _story("It sold 10,000 copies in the shops, the company said.", [0.62])
    asked = _rows("How many copies did it sell?", [story])
    dated = _rows("How many copies did it sell in 2016?", [story])
    p_asked = model.answerable(asked, model.probabilities(asked.matrix))
    p_dated = model.answerable(dated, model.probabilities(dated.matrix))
    assert p_dated < p_asked


def test_a_long_running_library_answers_from_the_article_as_it_is_now(
    samples: Path, data_dir: Path
) -> None:
    """Sentence vectors kept in memory between questions never outlive an edit."""
    library = Library(Settings.from_env(data_dir))
    try:
        library.ingest([samples])
        question = "Where will BMW open a plant?"
        assert "Chennai" not in library.ask(question).answer
        target = samples / "bbc-bmw-asia-sales.txt"
        target.write_text(target.read_text(encoding="utf-8")
                          + "\nBMW also said it would open a plant in Chennai.\n",
                          encoding="utf-8")
        library.reindex()
        answer = library.ask(question)
        assert "Chennai" in answer.answer
    finally:
        library.close()


def test_an_answer_does_not_repeat_one_fact_in_two_outlets_wordings() -> None:
    def candidate(story_id: int, text: str, probability: float) -> Candidate:
        evidence = _story(text, [0.5])
        evidence.story_id = story_id
        return Candidate(evidence, story_id - 1, 0, len(text), text, probability)

    candidates = [
        candidate(1, "IBM test results show that Blue Gene/L has managed speeds of 70.72 "
                     "teraflops.", 0.9),
        candidate(2, "DOE test results show that Blue Gene/L has managed speeds of 70.72 "
                     "teraflops.", 0.85),
        candidate(2, "It is one fifth the speed of the full version.", 0.4),
    ]
    model = replace(AnswerModel.load(), extra_min=0.3)
    chosen = select_sentences(candidates, model, AnswerTuning())
    texts = [c.text for c in chosen]
    assert sum("70.72 teraflops" in text for text in texts) == 1
    assert len(chosen) == 2  # the room goes to another sentence instead


def test_a_sentence_one_copy_opens_differently_is_not_quoted_twice() -> None:
    """Two stories of one event share a sentence whose opening words differ: the second is
    the first again, though fewer than 80 % of all their words are shared."""
    def candidate(story_id: int, text: str, probability: float) -> Candidate:
        evidence = _story(text, [0.5])
        evidence.story_id = story_id
        return Candidate(evidence, story_id - 1, 0, len(text), text, probability)

    tail = ("was 22 when she retired after having surgery on both ankles, and her last WTA "
            "event was in Filderstadt, Germany, in October 2002.")
    candidates = [candidate(1, f"Hingis {tail}", 0.6),
                  candidate(2, f"The former world number one {tail}", 0.55),
                  candidate(2, "Hingis is now ranked outside the world's top 200.", 0.4)]
    model = replace(AnswerModel.load(), extra_min=0.3)
    texts = [c.text for c in select_sentences(candidates, model, AnswerTuning())]
    assert texts == [candidates[0].text, candidates[2].text]
    assert restates(candidates[0].text, candidates[1].text, 0.8)
    assert not restates(candidates[0].text, candidates[2].text, 0.8)


def test_a_further_sentence_only_when_the_model_finds_it_likely() -> None:
    def candidate(text: str, probability: float) -> Candidate:
        return Candidate(_story(text, [0.5]), 0, 0, len(text), text, probability)

    candidates = [candidate("Time Warner agreed to pay $300m to settle the inquiry.", 0.8),
                  candidate("Its profits rose to $3.36bn in the fourth quarter.", 0.04),
                  candidate("The firm set aside $500m in reserves for the case.", 0.3)]
    model = replace(AnswerModel.load(), extra_min=0.2)
    chosen = [c.text for c in select_sentences(candidates, model, AnswerTuning())]
    assert chosen == [candidates[0].text, candidates[2].text]
    assert len(select_sentences(candidates, replace(model, extra_min=0.9),
                                AnswerTuning())) == 1


def test_a_misspelled_name_is_read_as_the_collection_writes_it() -> None:
    """A word no article uses is read as the vocabulary's closest word, in the case the
    question wrote it; a word the collection uses is never changed."""
    vocabulary = Counter(article_words(
        "Governor's budget", "Arnold Schwarzenegger said the government would cut taxes."))
    vocabulary.update({"schwarzer": 1, "governments": 9})

    def similar_words(word: str, limit: int) -> list[tuple[str, int]]:
        return closest(word, vocabulary.items(), limit)

    known = {"taxes", "cut", "goverments"}  # the collection writes "goverments" once
    found = corrections(["schwarzeneger", "goverment", "goverments", "taxes", "zzzz"],
                        similar_words, lambda term: term in known)
    assert found == {"schwarzeneger": "schwarzenegger", "goverment": "government"}
    assert corrected("did SCHWARZENEGER's goverment cut taxes, Schwarzeneger?", found) == (
        "did SCHWARZENEGGER's government cut taxes, Schwarzenegger?")


@pytest.mark.parametrize("sentence, amount", [
    ("The price of a café crème rose to 3 € in Paris.", "3 €"),
    ("Tickets cost 12,50 € at the door.", "12,50 €"),
    ("The firm paid $42m for the rights.", "$42m"),
    ("A pint now costs 90p more.", "90p"),
])
def test_a_sum_of_money_is_a_fact_whichever_side_its_symbol_is_on(sentence: str,
                                                                  amount: str) -> None:
    question = Question.of("How much does it cost?")
    assert question.kind == "money"
    spans = new_fact_spans(question.kind, sentence, question.asked)
    assert [sentence[start:end] for start, end in spans] == [amount]


def test_a_follow_up_asks_for_its_own_kind_of_fact_about_the_earlier_topic() -> None:
    earlier = "how many internet cafes did china shut down"
    when = Question.follow_up(earlier, "when was that?")
    assert when.kind == "date" and when.counted is None
    assert {"internet", "cafes", "china"} <= set(when.terms)
    why = Question.follow_up(earlier, "why?")
    assert why.kind == "reason"
    # A follow-up that asks for no kind of its own keeps the earlier question's.
    bmw = "how many cars did bmw sell last year"
    in_asia = Question.follow_up(bmw, "and in asia?")
    assert in_asia.kind == "count" and in_asia.counted == Question.of(bmw).counted
    assert "asia" in in_asia.terms
