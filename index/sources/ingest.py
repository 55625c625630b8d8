"""Reading article files into drafts: text, Markdown, HTML, JSON and JSON Lines.

`read_path` walks files and folders and yields, per file, either drafts or a reason the
file was skipped; it never raises for bad input. Accepted JSON fields and aliases are in
`FIELD_ALIASES` (documented in the README). Cleaning of the text happens here too, so
every draft that leaves this module is ready to store.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from index.sources.article import ArticleDraft
from index.sources.clean import clean_article_text, normalize_text

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES
# Documentation files met while walking a folder are not articles.
_NOT_ARTICLES = re.compile(r"^(readme|license|licence|changelog|contributing|notice)\b", re.I)

FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "name"),
    "body": ("body", "text", "content", "article", "maintext", "article_body", "articleBody"),
    "url": ("url", "link", "canonical_url", "href"),
    "outlet": ("source", "outlet", "site", "site_name", "publisher", "sitename"),
    "author": ("author", "authors", "byline", "creator"),
    "published_at": (
        "published_at", "published", "date", "pubDate", "datePublished", "publish_date",
        "date_published", "time",
    ),
    "language": ("language", "lang"),
}
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
# libxml2 (under lxml and trafilatura) stops building the tree this deep: the text inside
# is silently lost, so such a page is reported as too deeply nested.
MAX_HTML_DEPTH = 255
# Problems of records that a JSON value can provoke: numbers too long for int, nesting too
# deep for the decoder, values of unexpected types.
_BAD_VALUE_ERRORS = (ValueError, TypeError, OverflowError, RecursionError)

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class FileResult:
    """What one file gave: drafts, or problems (a file may give both: some bad lines)."""

    path: Path
    drafts: list[ArticleDraft] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class UnreadableFile(Exception):
    """A file that cannot be read as article text; the message says why."""


def normalize_date(value: Any) -> str | None:
    """An ISO-8601 UTC timestamp for a date in any common form, or None."""
    if value in (None, "") or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (ValueError, OverflowError, OSError):  # NaN, or beyond year 1..9999
            return None
    else:
        from dateutil import parser

        try:
            moment = parser.parse(str(value)[:100])
        except (ValueError, OverflowError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# Legacy encodings considered for a file that is not UTF-8, most common first. Short texts
# often decode cleanly in several (café crème is as valid in cp1250 as in cp1252, and the
# detector left alone picks cp1250 for it, or stops at cp932 for KOI8-R Russian); the best
# scoring wins, ties going to the earlier one.
LEGACY_ENCODINGS = (
    "cp1252", "cp1250", "cp1251", "koi8_r", "koi8_u", "cp1253", "cp1254", "cp1255",
    "cp1256", "cp1257", "iso8859_15", "cp932", "shift_jis", "euc_jp", "gb18030", "big5",
    "euc_kr", "cp874", "mac_roman",
)
_UNICODE_BOMS = (
    (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"),
)


def decode_text(data: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), UTF-16/32 with a BOM, else the most
    likely legacy encoding."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise UnreadableFile(f"not valid {encoding.upper()} text") from None
    if b"\x00" in data[:8192]:
        raise UnreadableFile("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    rank = {name: i for i, name in enumerate(LEGACY_ENCODINGS)}
    candidates = list(from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)))
    if candidates:
        # Among the (nearly) least chaotic decodings, the most coherent language wins.
        least = min(m.chaos for m in candidates)
        best = min((m for m in candidates if m.chaos <= least + 0.1),
                   key=lambda m: (-round(m.coherence, 2), rank.get(m.encoding, len(rank))))
    else:
        best = from_bytes(data).best()
    if best is None:
        raise UnreadableFile("not text in any known encoding")
    return str(best)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            fields[key.strip()] = value.strip().strip("\"'")
    return fields, text[match.end() :]


def _pick(record: dict[str, Any], name: str) -> Any:
    for alias in FIELD_ALIASES[name]:
        if record.get(alias) not in (None, "", []):
            return record[alias]
    return None


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return ", ".join(str(v.get("name", v) if isinstance(v, dict) else v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("title") or "") or None
    return str(value).strip() or None


def draft_from_record(record: dict[str, Any], origin: str) -> ArticleDraft:
    """A draft from a dict with title/body/url/… fields (see FIELD_ALIASES)."""
    body = _as_text(_pick(record, "body"))
    if not body:
        raise UnreadableFile("no body text (expected one of: " +
                             ", ".join(FIELD_ALIASES["body"]) + ")")
    title = _as_text(_pick(record, "title"))
    cleaned = clean_article_text(body, title=title)
    if not cleaned.title or not cleaned.body:
        raise UnreadableFile("no article text left after cleaning")
    return ArticleDraft(
        origin=origin,
        title=cleaned.title,
        body=cleaned.body,
        url=_as_text(_pick(record, "url")),
        outlet=_as_text(_pick(record, "outlet")),
        author=_as_text(_pick(record, "author")),
        published_at=normalize_date(_pick(record, "published_at")),
        language=_as_text(_pick(record, "language")),
    )


def read_text_file(text: str, origin: str, *, markdown: bool) -> ArticleDraft:
    """A .txt/.md article: optional `---` front matter, then headline, then body."""
    fields, text = _front_matter(text)
    if markdown:
        text = re.sub(r"^#{1,6}\s+", "", text, flags=re.M)
    fields["body"] = text
    title = _as_text(_pick(fields, "title"))
    record: dict[str, Any] = {k: v for k, v in fields.items() if k not in FIELD_ALIASES["title"]}
    if title:
        record["title"] = title
        return draft_from_record(record, origin)
    cleaned = clean_article_text(normalize_text(text))
    if not cleaned.title or not cleaned.body:
        raise UnreadableFile("empty file" if not text.strip() else "no article text found")
    record["title"] = cleaned.title
    record["body"] = cleaned.body
    return draft_from_record(record, origin)


def read_html_file(text: str, origin: str) -> ArticleDraft:
    from index.sources.html import draft_from_html

    draft = draft_from_html(text, origin=origin)
    if draft is None:
        if html_depth_exceeds(text, MAX_HTML_DEPTH):
            raise UnreadableFile(
                f"HTML nested too deeply (more than {MAX_HTML_DEPTH} levels of tags): "
                "no article text could be read")
        raise UnreadableFile("no article text found in the HTML")
    cleaned = clean_article_text(draft.body, title=draft.title)
    if not cleaned.body:
        raise UnreadableFile("no article text left after cleaning")
    draft.title, draft.body = cleaned.title, cleaned.body
    return draft


_VOID_TAGS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split())
_TAG = re.compile(r"<(/?)([A-Za-z][\w:-]*)[^<>]*?(/?)>")


def html_depth_exceeds(text: str, limit: int) -> bool:
    """True if tags in `text` nest deeper than `limit` (a linear scan, no parsing)."""
    depth = 0
    for match in _TAG.finditer(text):
        closing, name, self_closing = match.groups()
        if closing:
            depth = max(0, depth - 1)
        elif not self_closing and name.lower() not in _VOID_TAGS:
            depth += 1
            if depth > limit:
                return True
    return False


def read_json_records(text: str, path: Path, *, lines: bool) -> FileResult:
    """Each object of a JSON array/object or JSON Lines file as a draft; bad records are
    reported with their line (JSONL) or position (JSON) and the rest still read."""
    result = FileResult(path)
    records: list[tuple[str, Any]] = []
    if lines:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                records.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as error:
                result.problems.append(f"line {number}: malformed JSON ({error.msg})")
            except _BAD_VALUE_ERRORS as error:
                result.problems.append(f"line {number}: malformed JSON ({_json_problem(error)})")
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            result.problems.append(f"line {error.lineno}: malformed JSON ({error.msg})")
            return result
        except _BAD_VALUE_ERRORS as error:
            result.problems.append(f"malformed JSON ({_json_problem(error)})")
            return result
        items = data if isinstance(data, list) else [data]
        records = [(f"item {i}", item) for i, item in enumerate(items, start=1)]
    for where, record in records:
        if not isinstance(record, dict):
            result.problems.append(f"{where}: not a JSON object")
            continue
        key = where.split()[-1]
        try:
            result.drafts.append(draft_from_record(record, f"{origin_of(path)}#{key}"))
        except UnreadableFile as error:
            result.problems.append(f"{where}: {error}")
        except _BAD_VALUE_ERRORS as error:
            result.problems.append(f"{where}: unusable values ({_json_problem(error)})")
    return result


def _json_problem(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).split(";")[0][:200]


def origin_of(path: Path) -> str:
    """`path` as text that can be stored and shown: bytes of a file name that are not
    UTF-8 (which Python keeps as lone surrogates) become `\\xNN` escapes."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    return text


def read_file(path: Path, *, max_bytes: int) -> FileResult:
    """Read one file into drafts; never raises for bad input.

    The result's `path` is `path` as stored (see `origin_of`); it differs from `path`
    only for a file name that is not UTF-8."""
    name = Path(origin_of(path))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        return FileResult(name, problems=[f"unsupported file type {suffix or '(none)'}"])
    try:
        return _read_supported_file(path, name, suffix, max_bytes)
    except UnreadableFile as error:
        return FileResult(name, problems=[str(error)])
    except RecursionError:
        return FileResult(name, problems=["cannot read: the file is nested too deeply"])
    except (OSError, ValueError) as error:
        return FileResult(name, problems=[f"cannot read: {error}"])
    except Exception as error:  # a bug met on strange input must not stop an ingest
        logger.exception("unexpected error while reading %s", name)
        return FileResult(name, problems=[
            f"cannot read: unexpected error ({type(error).__name__}: {error})"])


def _read_supported_file(path: Path, name: Path, suffix: str, max_bytes: int) -> FileResult:
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        return FileResult(name, problems=["not a regular file"])
    if info.st_size > max_bytes:
        return FileResult(name, problems=[
            f"too large ({_size(info.st_size)} > {_size(max_bytes)} limit, "
            "see CITEBOT_MAX_FILE_MB)"
        ])
    if info.st_size == 0:
        return FileResult(name, problems=["empty file"])
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)  # the file may have grown since stat()
    if len(data) > max_bytes:
        return FileResult(name, problems=[
            f"too large (over the {_size(max_bytes)} limit, see CITEBOT_MAX_FILE_MB)"])
    text = decode_text(data)
    if suffix in JSON_SUFFIXES:
        return read_json_records(text, name, lines=suffix != ".json")
    if suffix in HTML_SUFFIXES:
        return FileResult(name, drafts=[read_html_file(text, str(name))])
    return FileResult(name, drafts=[read_text_file(text, str(name), markdown=suffix in {
        ".md", ".markdown"})])


def _size(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


def iter_files(root: Path, not_read: Counter[str] | None = None
               ) -> Iterator[Path | tuple[Path, str]]:
    """Article files under `root` (a file or a folder, walked recursively without following
    symlinked folders); yields `(path, reason)` for paths that cannot be used. Files of a
    folder that are not articles (other types, documentation) are counted by kind in
    `not_read` (".pdf", "(no extension)", "documentation"); hidden ones are not counted."""
    try:
        resolved = root.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        reason = "no such file or folder" if isinstance(error, FileNotFoundError) else str(error)
        yield (root, reason)
        return
    if resolved.is_file():
        yield resolved
        return
    if not resolved.is_dir():
        yield (root, "not a regular file or folder")
        return
    for folder, subfolders, files in os.walk(resolved, followlinks=False):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            path = Path(folder) / name
            if name.startswith("."):
                continue
            if path.suffix.lower() in SUPPORTED_SUFFIXES and not _NOT_ARTICLES.match(name):
                yield path
            elif not_read is not None:
                not_read[_kind_of(name)] += 1


def _kind_of(name: str) -> str:
    """How a file that is not an article is counted: documentation, else its extension."""
    if _NOT_ARTICLES.match(name):
        return "documentation"
    return Path(name).suffix.lower() or "(no extension)"
