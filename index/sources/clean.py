"""Cleaning scraped article text: what is story and what is page furniture.

Scraped pages mix the story with share prompts, image credits, ads, "follow us" lines,
empty widgets and author bios. `clean_article_text` keeps the story by general rules about
the *shape* of such lines (short, unpunctuated, promotional, credit-like, contact details,
a byline block at the tail, a bullet list that only recaps the story) rather than by
matching any one site's strings.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from index.text import stemmed_words

# Calls to action that make up share bars, social prompts, subscription nags and page chrome.
_CHROME_PHRASES = re.compile(
    r"(^(share|tweet|pin|email|print|save|comment|like)( (this|it|on \w+|article|story|post))?$|"
    r"\bspread the (love|word)\b|\bfollow (us|me)\b|\blike us on\b|\bjoin us on\b|"
    r"\bsubscribe (to|now|for|today)\b|^subscribe\b|\bsign up (for|to|now)\b|"
    r"^(read|see) (more|also)\b|^related( (articles?|stories|posts|content|news))?\s*:?$|"
    r"^(most read|trending now|recommended for you|you may also like)\b|\bclick here\b|"
    r"\bdownload (the|our) app\b|\baccept (all )?cookies\b|\bwe use cookies\b|"
    r"^(advertisement|sponsored( content)?|promoted|ad)$|\ball rights reserved\b|"
    r"\bleave a (reply|comment)\b|^(\d+ )?comments?$|\bshare (this|on|via)\b)",
    re.IGNORECASE,
)
# Promotional vocabulary typical of injected ads.
_PROMO_WORDS = re.compile(
    r"\b(bonus|deposit|casino|free spins|jackpot|betting|promo code|coupon|discount|"
    r"% off|offer ends|limited offer|buy now|shop now|order now|wager)\b",
    re.IGNORECASE,
)
# Patterns that are searched in every line are written to take linear time on hostile
# input (a 1 MB "word" of letters or digits): a repeated class never starts mid-run.
_MONEY_OR_PERCENT = re.compile(r"(\d\s?%|[$€£¥]\s?\d|\d\s?[$€£¥])")
_CREDIT = re.compile(
    r"(©|\(c\)\s|\bcopyright\s*(©|\(c\)|\d{4})|\bphoto(graph)?\s*(by|:|credit)|\bimage\s*(by|:|credit)|"
    r"\bcredit\s*:|\bpicture\s*:|\billustration\s*:|/\s*(shutterstock|getty|afp|reuters|ap)\b|"
    r"\b(shutterstock|getty images|istock|alamy)\b)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE = re.compile(r"(\+?\d{1,3}[\s.-])?\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b")
_BYLINE = re.compile(
    r"^(by|written by|author:?|words by|reporting by)\s+"
    r"[A-Z][\w'’.-]+(\s+[A-Z][\w'’.-]+){0,3}\s*$",
    re.IGNORECASE,
)
_PERSON_NAME = re.compile(r"^[A-Z][a-z'’-]+(\s+[A-Z][a-z'’.-]+){1,3}$")
_SENTENCE_END = re.compile(r"[.!?…:;\"'”’)\]]$")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_BIO_OPENING = re.compile(
    r"^[A-Z][\w'’.-]+(\s+[A-Z][\w'’.-]+){1,3}\s+(is|has been|was|joined|covers|writes)\b"
    r"(\s+\S+){0,6}\s+(reporter|journalist|editor|writer|correspondent|columnist|author)\b"
)


# A list item: a bullet mark, then the item's words.
_BULLET_ITEM = re.compile(r"^[•·▪‣◦*–—-]\s*(?=\w)")
# A bullet list at the head or tail of a story whose items each repeat this share of their
# content words (stemmed) from the rest of the story is a recap ("key points"), not story.
RECAP_WORD_SHARE = 0.7
RECAP_MIN_ITEMS = 2


@dataclass(frozen=True, slots=True)
class CleanedText:
    """The headline and the story body after cleaning, plus what was dropped and why."""

    title: str
    body: str
    dropped: tuple[tuple[str, str], ...]


def normalize_text(text: str) -> str:
    """Unicode-normalise, unify line endings, drop control characters, trim line ends."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    # Look up each distinct character once (a text has a few hundred), not every character.
    control = {ord(ch): None for ch in set(text)
               if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs")}
    if control:
        text = text.translate(control)
    text = text.replace("\t", " ").replace("\u00a0", " ")
    lines = [re.sub(r"[ ]{2,}", " ", line).strip() for line in text.split("\n")]
    return "\n".join(lines)


def paragraphs_of(text: str) -> list[str]:
    """Split text into paragraphs: blank lines separate them; single newlines inside are
    kept as separate lines only when the source had one paragraph per line."""
    blocks = [block.strip() for block in re.split(r"\n\s*\n", text)]
    paragraphs: list[str] = []
    for block in blocks:
        if not block:
            continue
        paragraphs.extend(line.strip() for line in block.split("\n") if line.strip())
    return paragraphs


def _has_letters(line: str) -> bool:
    return bool(_LETTERS.search(line))


def _word_count(line: str) -> int:
    return len(line.split())


def _is_unpunctuated_short(line: str, max_words: int = 12) -> bool:
    return _word_count(line) <= max_words and not _SENTENCE_END.search(line)


def line_junk_reason(line: str) -> str | None:
    """Why a single line is page furniture rather than story, or None if it is story."""
    if not _has_letters(line) and not re.search(r"\d", line):
        return "empty widget"
    # (cheap word counts first: most story lines are too long to be furniture)
    if _word_count(line) <= 30 and (_EMAIL.search(line) or _PHONE.search(line)):
        return "contact details"
    if _word_count(line) <= 15 and _CREDIT.search(line):
        return "image credit"
    stripped = line.lstrip("•·-–*|>#📍👉➡️🔔📢✅📰 ").strip()
    looks_like_widget = stripped != line or _word_count(stripped) <= 8
    if looks_like_widget and _word_count(stripped) <= 25 and _CHROME_PHRASES.search(stripped):
        return "share or follow prompt"
    if (
        _PROMO_WORDS.search(line)
        and _MONEY_OR_PERCENT.search(line)
        and not _SENTENCE_END.search(line)
    ):
        return "advertisement"
    return None


def _tail_bio_start(lines: list[str]) -> int | None:
    """Index where a byline/author-bio block at the end of the page starts, if any.

    A byline ("By Jane Doe") among the last lines of the page, optionally preceded by the
    bare name, marks the start of an author box: it and everything after it go. So does a
    closing paragraph that introduces a person as a reporter/editor/writer.
    """
    n = len(lines)
    for i in range(n - 1, max(-1, n - 6), -1):
        if _BYLINE.match(lines[i]):
            start = i
            if i > 0 and _PERSON_NAME.match(lines[i - 1]):
                start = i - 1
            return start
    if n >= 3 and _BIO_OPENING.match(lines[-1]):
        start = n - 1
        if _PERSON_NAME.match(lines[n - 2]):
            start = n - 2
        return start
    return None


# Scripts written without spaces between words (CJK, Thai, Lao, Khmer, Myanmar).
_UNSPACED_SCRIPT = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
    r"\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
)


def _enough_words_for_a_headline(line: str) -> bool:
    """Two words or more; in scripts without spaces, a few characters of that script."""
    return _word_count(line) >= 2 or len(_UNSPACED_SCRIPT.findall(line)) >= 4


def choose_title(lines: list[str]) -> int | None:
    """Index of the headline: the first meaningful line that is not furniture."""
    for i, line in enumerate(lines):
        if (_enough_words_for_a_headline(line) and len(line) <= 300
                and line_junk_reason(line) is None):
            return i
    return None


def _without_recap_lists(lines: list[str]) -> tuple[list[str], list[str]]:
    """`lines` without a bullet list at their head or tail that only repeats the story
    (every item's content words mostly found in the other lines), and the lines dropped.
    A list whose items say something the story does not stays."""
    dropped: list[str] = []
    for at_tail in (True, False):
        run = _bullet_run(lines, at_tail=at_tail)
        if len(run) < RECAP_MIN_ITEMS:
            continue
        rest = [line for i, line in enumerate(lines) if i not in run]
        story_words = stemmed_words(" ".join(rest))
        if story_words and all(_share_known(lines[i], story_words) >= RECAP_WORD_SHARE
                               for i in run):
            dropped.extend(lines[i] for i in sorted(run))
            lines = rest
    return lines, dropped


def _bullet_run(lines: list[str], *, at_tail: bool) -> list[int]:
    """Indexes of the consecutive bullet items at the end (or start) of `lines`."""
    order = range(len(lines) - 1, -1, -1) if at_tail else range(len(lines))
    run: list[int] = []
    for i in order:
        if not _BULLET_ITEM.match(lines[i]):
            break
        run.append(i)
    return run


def _share_known(item: str, story_words: frozenset[str]) -> float:
    words = stemmed_words(_BULLET_ITEM.sub("", item))
    return len(words & story_words) / len(words) if words else 1.0


def clean_article_text(text: str, *, title: str | None = None) -> CleanedText:
    """Split raw article text into headline and clean body.

    When `title` is given (e.g. from HTML metadata) the first line is not taken as headline,
    but a first line equal to the title is removed from the body.
    """
    lines = paragraphs_of(normalize_text(text))
    dropped: list[tuple[str, str]] = []
    bio_start = _tail_bio_start(lines)
    if bio_start is not None:
        dropped.extend((line, "author bio") for line in lines[bio_start:])
        lines = lines[:bio_start]
    kept: list[str] = []
    for line in lines:
        reason = line_junk_reason(line)
        if reason:
            dropped.append((line, reason))
        else:
            kept.append(line)
    if title is None:
        index = choose_title(kept)
        if index is None:
            return CleanedText("", "", tuple(dropped))
        title = kept[index]
        kept = kept[index + 1 :]
    else:
        title = normalize_text(title).strip()
        if kept and kept[0].strip().casefold() == title.casefold():
            kept = kept[1:]
    kept, recap = _without_recap_lists(kept)
    dropped.extend((line, "summary list repeating the story") for line in recap)
    return CleanedText(title.strip(), "\n\n".join(kept), tuple(dropped))
