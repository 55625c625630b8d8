"""A stand-in for the Telegram Bot API server, for end-to-end tests of the bot.

This module owns a real HTTP server (stdlib ``ThreadingHTTPServer`` in a background thread)
that speaks the Bot API wire protocol closely enough that a bot passing against it should
not fail against ``api.telegram.org``: the same URL layout (``/bot<TOKEN>/<method>``), the
same request encodings (JSON, url-encoded and multipart bodies, query strings), the same
response envelope (``{"ok": ..., "result" | "error_code" + "description" [+ "parameters"]}``)
and, where the bot could get it wrong, the same validation and error texts as Telegram.

Telegram behaviour that is modelled (texts copied from the Bot API / tdlib):

* tokens: the configured token works; another well-formed token gets 401 ``Unauthorized``,
  a malformed one or an unknown method 404 ``Not Found`` (both as Telegram does);
* ``parse_mode=HTML`` parsing ported from tdlib's ``parse_html`` (same byte offsets and
  messages, e.g. ``Unsupported start tag "foo" at byte offset 5``), producing the entities
  Telegram returns; text is trimmed, then must be 1..4096 UTF-16 code units;
* url / email / mention / hashtag / bot_command entities are found in plain text, as
  Telegram does for sent messages and as clients do for user messages;
* inline keyboards: ``callback_data`` 1..64 UTF-8 bytes, URL buttons need a real URL;
* ``getUpdates``: offsets confirm updates, long polling wakes on new updates, a second
  poller terminates the first with 409, polling while a webhook is set is a 409;
* ``editMessageText``: "message is not modified", the inline keyboard is dropped when the
  edit carries no ``reply_markup``, only the bot's own messages can be edited;
* ``sendPhoto`` with a multipart upload (an image checked by its magic bytes, caption);
* callback queries: answered once, within ``callback_query_ttl`` seconds;
* the gap between a call taking effect and its response reaching the bot can be held
  open (``hold_responses``), e.g. a user replying to a message the bot has not yet
  learned the id of;
* groups: privacy mode (without ``can_read_all_group_messages``, only commands, mentions of
  the bot and replies to it are delivered); group chat ids are negative.

Deliberate differences: ``&`` that does not start ``&lt;``/``&gt;``/``&amp;``/``&quot;`` or
a numeric reference is an error here (Telegram shows it literally; pass
``strict_html_entities=False`` for Telegram's exact behaviour); MarkdownV2/Markdown are not
parsed (400); a webhook may be plain ``http://`` on a loopback host; Bot API methods that
are not implemented answer HTTP 501 so that a test fails loudly instead of passing.

Usage::

    with TelegramStandin() as tg:
        app = Application.builder().token(tg.token).base_url(f"{tg.base_url}/bot").build()
        ...
        tg.add_user_message(42, 42, "/start")
        reply = tg.wait_for_message(42)

or take the ``telegram_standin`` pytest fixture defined at the bottom of this module
(import it into a conftest: ``from tests.telegram_standin import telegram_standin_fixture``).
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import functools
import itertools
import json
import math
import re
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest

T = TypeVar("T")
JSON = dict[str, Any]

DEFAULT_BOT_ID = 7000000001
TOKEN_SECRET = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the example token of Telegram's docs
MAX_MESSAGE_UTF16 = 4096
MAX_CALLBACK_ANSWER = 200
MAX_CALLBACK_DATA_BYTES = 64
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CAPTION_UTF16 = 1024
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")
HOLD_LIMIT_SECONDS = 60.0  # a held response goes at the latest after this long

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
CONFLICT_POLLER = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: CONFLICT_POLLER,
    500: "Internal Server Error",
    502: "Bad Gateway",
}
ALL_UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
        "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
)  # fmt: skip

_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_PATH_RE = re.compile(r"/bot([^/]*)/([A-Za-z0-9_]*)/?")


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


class ApiError(Exception):
    """A Bot API error, rendered as Telegram's ``{"ok": false, ...}`` envelope."""

    def __init__(
        self, code: int, description: str, parameters: JSON | None = None, *, injected: bool = False
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters
        self.injected = injected  # raised by TelegramStandin.inject_error

    def payload(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    """A 400 error with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {what}")


def entity_error(what: str) -> ApiError:
    """The 400 error of a parse_mode failure."""
    return bad_request(f"can't parse entities: {what}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


class _Abandoned(Exception):
    """The client went away while its long poll was waiting: nothing is sent back."""


class _Terminated(Exception):
    """A newer getUpdates request replaced this one."""


# --------------------------------------------------------------------------------------
# UTF-16 helpers
# --------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf16_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-16 offset of ``text[i]`` (with one extra entry at the end)."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


def _entity(kind: str, offset: int, length: int, **extra: Any) -> JSON:
    return {"type": kind, "offset": offset, "length": length, **extra}


def _sort_entities(entities: list[JSON]) -> list[JSON]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


# --------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------

_HOST_RE = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]", re.I)
_IPV4_RE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def normalize_url(url: str) -> str | None:
    """Telegram's idea of a valid link (as tdlib's ``check_url``): the normalised URL or None.

    http(s) URLs need a dotted host name or an IPv4 address; a bare host gets ``http://``;
    ``tg://`` and ``ton://`` links are kept. The host is lower-cased and an empty path
    becomes ``/``, as Telegram echoes it.
    """
    url = url.strip()
    if re.match(r"(?i)(tg|ton)://\S+$", url):
        return url
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    if not (_HOST_RE.fullmatch(host) or _IPV4_RE.fullmatch(host)) or re.search(r"\s", url):
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    netloc = host.lower() + (f":{port}" if port else "")
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    return f"{parts.scheme.lower()}://{netloc}{path}{query}{fragment}"


# --------------------------------------------------------------------------------------
# HTML parse mode (a port of tdlib's parse_html)
# --------------------------------------------------------------------------------------

HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TAG_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "s": "strikethrough",
    "strike": "strikethrough", "del": "strikethrough", "u": "underline", "ins": "underline",
    "tg-spoiler": "spoiler", "span": "spoiler",
}  # fmt: skip
_NAMED_ENTITIES = {b"lt": "<", b"gt": ">", b"amp": "&", b"quot": '"'}
_SPACES = frozenset(b" \t\r\n\v\0")


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    out_pos: int


class HtmlParser:
    """Turns Bot API HTML into ``(text, entities)`` or raises the error Telegram gives."""

    def __init__(self, source: str, *, strict_entities: bool = True) -> None:
        self.src = source.encode("utf-8", "surrogatepass")
        self.strict = strict_entities
        self.out = bytearray()
        self.utf16 = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JSON] = []

    def _at(self, i: int) -> int:
        return self.src[i] if i < len(self.src) else 0

    def parse(self) -> tuple[str, list[JSON]]:
        i = 0
        while i < len(self.src):
            c = self.src[i]
            if c == ord("&"):
                i = self._reference(i)
            elif c == ord("<"):
                i = self._end_tag(i) if self._at(i + 1) == ord("/") else self._start_tag(i)
            else:
                if c & 0xC0 != 0x80:
                    self.utf16 += 2 if c >= 0xF0 else 1
                self.out.append(c)
                i += 1
        if self.stack:
            name = self.stack[-1].name
            raise entity_error(f'Can\'t find end tag corresponding to start tag "{name}"')
        try:
            text = self.out.decode("utf-8")
        except UnicodeDecodeError:
            raise bad_request(
                "can't parse entities: Text contains invalid Unicode characters after decoding "
                "HTML entities, check for unmatched surrogate code units"
            ) from None
        for entity in self.entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        return text, _sort_entities(self.entities)

    # -- character references -----------------------------------------------------------

    def _decode_reference(self, pos: int) -> tuple[str | None, int]:
        """tdlib's ``decode_html_entity``: (character or None, position after it)."""
        end = pos + 1
        if self._at(end) == ord("#"):
            end += 1
            hexadecimal = self._at(end) == ord("x")
            end += hexadecimal
            digits = b"0123456789abcdefABCDEF" if hexadecimal else b"0123456789"
            start = end
            while self._at(end) and self._at(end) in digits:
                end += 1
            value = int(self.src[start:end], 16 if hexadecimal else 10) if end > start else 0
            if value == 0 or value >= 0x10FFFF or end - pos >= 10:
                return None, pos
            char = chr(value)
        else:
            while chr(self._at(end)).isascii() and chr(self._at(end)).isalpha():
                end += 1
            char = _NAMED_ENTITIES.get(bytes(self.src[pos + 1 : end]))
            if char is None:
                return None, pos
        return char, end + 1 if self._at(end) == ord(";") else end

    def _reference(self, pos: int) -> int:
        char, end = self._decode_reference(pos)
        if char is not None and (not self.strict or self.src[end - 1] == ord(";")):
            self.out += char.encode("utf-8", "surrogatepass")
            self.utf16 += 2 if ord(char) > 0xFFFF else 1
            return end
        if self.strict:
            raise entity_error(self._reference_problem(pos))
        self.out.append(ord("&"))
        self.utf16 += 1
        return pos + 1

    def _reference_problem(self, pos: int) -> str:
        match = re.match(rb"&#?[A-Za-z0-9]*;?", self.src[pos : pos + 32])
        token = match.group().decode() if match else "&"
        if token.endswith(";"):
            return f'Unsupported HTML entity "{token}" at byte offset {pos}'
        if self._decode_reference(pos)[0] is not None:
            return f'HTML entity "{token}" at byte offset {pos} must end with ";"'
        return f'Unescaped "&" at byte offset {pos}; write it as "&amp;"'

    # -- tags -----------------------------------------------------------------------------

    def _start_tag(self, begin: int) -> int:
        i = begin + 1
        while self._at(i) not in _SPACES and self._at(i) != ord(">"):
            i += 1
        if self._at(i) == 0:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        tag = self.src[begin + 1 : i].decode("utf-8", "replace").lower()
        if tag not in HTML_TAGS:
            raise entity_error(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        while self._at(i) != ord(">"):
            i, argument = self._attribute(tag, begin, i, argument)
        if tag == "span" and argument != "spoiler":
            raise entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        self.stack.append(_OpenTag(tag, argument, self.utf16, len(self.out)))
        return i + 1

    def _skip_spaces(self, i: int) -> int:
        while self._at(i) != 0 and self._at(i) in _SPACES:
            i += 1
        return i

    def _attribute(self, tag: str, begin: int, i: int, argument: str) -> tuple[int, str]:
        i = self._skip_spaces(i)
        if self._at(i) == ord(">"):
            return i, argument
        name_start = i
        while self._at(i) not in _SPACES and self._at(i) not in b"=>":
            i += 1
        name = self.src[name_start:i].decode("utf-8", "replace")
        if not name:
            raise entity_error(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        i = self._skip_spaces(i)
        if self._at(i) != ord("="):
            if tag == "blockquote" and name == "expandable":
                return i, "expandable"
            raise entity_error(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {begin}"
            )
        i = self._skip_spaces(i + 1)
        if self._at(i) == 0:
            raise entity_error(f'Unclosed start tag "{tag}" at byte offset {begin}')
        i, value = self._attribute_value(i)
        if self._at(i) == 0:
            raise entity_error(f"Unclosed start tag at byte offset {begin}")
        return i, self._tag_argument(tag, name, value, argument)

    def _attribute_value(self, i: int) -> tuple[int, str]:
        quote = self._at(i)
        if quote not in (ord("'"), ord('"')):
            start = i
            while (self._at(i) < 128 and chr(self._at(i)).isalnum()) or self._at(i) in b".-":
                i += 1
            if self._at(i) not in _SPACES and self._at(i) != ord(">"):
                raise entity_error(f"Unexpected end of name token at byte offset {start}")
            return i, self.src[start:i].decode().lower()
        value = bytearray()
        i += 1
        while self._at(i) != quote and self._at(i) != 0:
            if self._at(i) == ord("&"):
                char, end = self._decode_reference(i)
                if char is not None and (not self.strict or self.src[end - 1] == ord(";")):
                    value += char.encode("utf-8", "surrogatepass")
                    i = end
                    continue
                if self.strict:
                    raise entity_error(self._reference_problem(i))
            value.append(self.src[i])
            i += 1
        if self._at(i) == quote:
            i += 1
        return i, value.decode("utf-8", "surrogatepass")

    @staticmethod
    def _tag_argument(tag: str, name: str, value: str, argument: str) -> str:
        if tag == "a" and name == "href":
            return value
        if tag == "code" and name == "class" and value.startswith("language-"):
            return value[len("language-") :]
        if tag == "span" and name == "class" and value.startswith("tg-"):
            return value[len("tg-") :]
        if tag == "tg-emoji" and name == "emoji-id":
            return value
        return argument

    def _end_tag(self, begin: int) -> int:
        if not self.stack:
            raise entity_error(f"Unexpected end tag at byte offset {begin}")
        i = begin + 2
        while self._at(i) not in _SPACES and self._at(i) != ord(">"):
            i += 1
        end_name = self.src[begin + 2 : i].decode("utf-8", "replace")
        while self._at(i) != 0 and self._at(i) in _SPACES:
            i += 1
        if self._at(i) != ord(">"):
            raise entity_error(f"Unclosed end tag at byte offset {begin}")
        tag = self.stack[-1]
        if end_name and end_name != tag.name:
            raise entity_error(
                f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > tag.utf16_offset:
            self._close_entity(tag, tag.utf16_offset, self.utf16 - tag.utf16_offset)
        self.stack.pop()
        return i + 1

    def _close_entity(self, tag: _OpenTag, offset: int, length: int) -> None:
        if tag.name in _SIMPLE_TAG_TYPES:
            self.entities.append(_entity(_SIMPLE_TAG_TYPES[tag.name], offset, length))
        elif tag.name == "blockquote":
            kind = "expandable_blockquote" if tag.argument == "expandable" else "blockquote"
            self.entities.append(_entity(kind, offset, length))
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise entity_error("Invalid custom emoji identifier specified")
            self.entities.append(
                _entity("custom_emoji", offset, length, custom_emoji_id=tag.argument)
            )
        elif tag.name == "a":
            self._close_link(tag, offset, length)
        else:
            self._close_code(tag, offset, length)

    def _close_link(self, tag: _OpenTag, offset: int, length: int) -> None:
        url = tag.argument or self.out[tag.out_pos :].decode("utf-8", "replace")
        user = re.fullmatch(r"(?i)tg://user\?id=(\d+)", url.strip())
        if user:
            person = {"id": int(user.group(1)), "is_bot": False, "first_name": "User"}
            self.entities.append(_entity("text_mention", offset, length, user=person))
            return
        normalized = normalize_url(url)
        if normalized is not None:  # an invalid link is dropped silently, as by Telegram
            self.entities.append(_entity("text_link", offset, length, url=normalized))

    def _close_code(self, tag: _OpenTag, offset: int, length: int) -> None:
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and (last["offset"], last["length"]) == (offset, length)
        if tag.name == "pre":
            if same_span and last["type"] == "code" and last.get("language"):
                last["type"] = "pre"
            else:
                self.entities.append(_entity("pre", offset, length))
        elif same_span and last["type"] == "pre" and tag.argument:
            last["language"] = tag.argument
        else:
            extra = {"language": tag.argument} if tag.argument else {}
            self.entities.append(_entity("code", offset, length, **extra))


def parse_html(text: str, *, strict_entities: bool = True) -> tuple[str, list[JSON]]:
    """Parse Bot API HTML: ``(plain_text, entities)`` or raise :class:`ApiError`."""
    return HtmlParser(text, strict_entities=strict_entities).parse()


# --------------------------------------------------------------------------------------
# Entities Telegram finds by itself, trimming
# --------------------------------------------------------------------------------------

_AUTO_ENTITY_PATTERNS = (
    ("url", re.compile(r"(?<![\w@/.])(?:https?://|www\.)[^\s<>\"]+", re.I)),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")),
    ("bot_command", re.compile(r"(?<![\w/<>])/\w{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])", re.A)),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}(?![\w@])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d_]\w*")),
)  # fmt: skip
_OPAQUE_ENTITY_TYPES = frozenset({"pre", "code", "text_link", "text_mention", "custom_emoji"})


def find_entities(text: str, existing: Iterable[JSON] = ()) -> list[JSON]:
    """Entities Telegram detects in plain text (url, email, bot_command, mention, hashtag).

    Spans overlapping an ``existing`` pre/code/link entity are skipped, as by Telegram.
    """
    offsets = _utf16_offsets(text)
    taken = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] in _OPAQUE_ENTITY_TYPES
    ]
    found: list[JSON] = []
    for kind, pattern in _AUTO_ENTITY_PATTERNS:
        for match in pattern.finditer(text):
            start, end = match.start(), match.end()
            if kind == "url":
                end = start + len(match.group().rstrip(".,:;!?)]}'\""))
            span = (offsets[start], offsets[end])
            if any(span[0] < b and a < span[1] for a, b in taken):
                continue
            taken.append(span)
            found.append(_entity(kind, span[0], span[1] - span[0]))
    return found


_TRIMMED = " \t\n\r\v\f"


def trim_text(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip surrounding whitespace as Telegram does, moving and clipping entities."""
    stripped = text.strip(_TRIMMED)
    if stripped == text:
        return text, entities
    shift = len(text) - len(text.lstrip(_TRIMMED))  # ASCII: one UTF-16 unit each
    limit = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# --------------------------------------------------------------------------------------
# Reply markup
# --------------------------------------------------------------------------------------


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request(
            'can\'t parse inline keyboard button: Field "text" must be of type String'
        )
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or normalize_url(url) is None or "://" not in url:
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _validate_keyboard_rows(markup: JSON, key: str, kind: str) -> list[Any]:
    rows = markup.get(key)
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" of the {kind} should be an Array of Arrays')
    return [button for row in rows for button in row]


def validate_reply_markup(markup: Any, *, inline_only: bool = False) -> JSON | None:
    """Check ``reply_markup`` like Telegram; return what a Message echoes (inline only)."""
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        buttons = _validate_keyboard_rows(markup, "inline_keyboard", "InlineKeyboardMarkup")
        for button in buttons:
            _validate_inline_button(button)
        rows = [row for row in markup["inline_keyboard"] if row]
        return {"inline_keyboard": rows} if rows else None
    if inline_only:
        raise bad_request("can't parse inline keyboard markup JSON object")
    if "keyboard" in markup:
        for button in _validate_keyboard_rows(markup, "keyboard", "ReplyKeyboardMarkup"):
            if not isinstance(button, str | dict):
                raise bad_request("can't parse keyboard button")
        return None
    if markup.get("remove_keyboard") is True or markup.get("force_reply") is True:
        return None
    raise bad_request("can't parse reply keyboard markup JSON object")


def _callback_datas(markup: JSON | None) -> set[str]:
    rows = (markup or {}).get("inline_keyboard", [])
    return {b["callback_data"] for row in rows for b in row if "callback_data" in b}


# --------------------------------------------------------------------------------------
# Request decoding
# --------------------------------------------------------------------------------------

_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "allowed_updates", "reply_parameters",
        "link_preview_options", "commands", "scope", "caption_entities", "media",
    }
)  # fmt: skip
_INT_PARAMS = frozenset(
    {
        "message_id", "offset", "limit", "reply_to_message_id", "message_thread_id",
        "cache_time", "max_connections", "user_id", "from_chat_id",
    }
)  # fmt: skip
_FLOAT_PARAMS = frozenset({"timeout"})
_BOOL_PARAMS = frozenset(
    {
        "disable_notification", "protect_content", "show_alert", "drop_pending_updates",
        "allow_sending_without_reply", "disable_web_page_preview", "allow_paid_broadcast",
    }
)  # fmt: skip


def _coerce(name: str, value: Any) -> Any:
    """Convert one string-encoded parameter to its Bot API type; leave it if it won't fit."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name in _INT_PARAMS:
            return int(value)
        if name in _FLOAT_PARAMS:
            return float(value)
    except ValueError:
        return value
    if name in _BOOL_PARAMS and value.lower() in ("true", "false", "1", "0", ""):
        return value.lower() in ("true", "1")
    if name == "chat_id" and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _parse_multipart(content_type: str, body: bytes) -> JSON:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    params: JSON = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is None:
            params[str(name)] = payload.decode("utf-8", "surrogateescape")
        else:
            params[str(name)] = {"filename": filename, "size": len(payload), "content": payload}
    return params


def decode_request(query: str, content_type: str, body: bytes) -> JSON:
    """All parameters of a Bot API request (query string, then body), typed."""
    raw: JSON = dict(parse_qsl(query, keep_blank_values=True))
    mime = content_type.split(";")[0].strip().lower()
    if body and mime == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(decoded, dict):
            raise bad_request("JSON object expected as request body")
        raw.update(decoded)
    elif body and mime == "multipart/form-data":
        raw.update(_parse_multipart(content_type, body))
    elif body:
        raw.update(parse_qsl(body.decode("utf-8", "surrogateescape"), keep_blank_values=True))
    return {name: _coerce(name, value) for name, value in raw.items()}


class Params:
    """Typed, validating access to the parameters of one request."""

    def __init__(self, values: JSON) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"invalid {name} specified")
        return value

    def number(self, name: str, default: float) -> float:
        value = self.values.get(name)
        if value in (None, ""):
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad_request(f"invalid {name} specified")
        return float(value)

    def flag(self, name: str) -> bool:
        return self.values.get(name) is True

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        return None if value is None else str(value)

    def json_value(self, name: str, kind: type, what: str) -> Any:
        value = self.values.get(name)
        if value in (None, ""):
            return None
        if not isinstance(value, kind):
            raise bad_request(f"can't parse {what} JSON object")
        return value


# --------------------------------------------------------------------------------------
# State records
# --------------------------------------------------------------------------------------


@dataclass
class ApiCall:
    """One Bot API request as the stand-in saw and answered it."""

    method: str
    params: JSON
    http_method: str
    status: int
    response: JSON | None
    injected: bool = False
    abandoned: bool = False
    at: float = field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        return (self.response or {}).get("result")

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")


@dataclass
class _Chat:
    info: JSON
    messages: dict[int, JSON] = field(default_factory=dict)
    next_message_id: int = 1
    blocked: bool = False
    bot_is_admin: bool = False


@dataclass
class _InjectedError:
    error: ApiError
    remaining: int


@dataclass
class _RateLimit:
    max_calls: int
    period: float
    per_chat: bool
    methods: frozenset[str]
    history: dict[Any, deque[float]] = field(default_factory=dict)

    def check(self, method: str, chat_key: Any) -> None:
        """Raise Telegram's 429 when this call would exceed the limit, else count it."""
        if method not in self.methods:
            return
        key = chat_key if self.per_chat else None
        window = self.history.setdefault(key, deque())
        now = time.monotonic()
        while window and window[0] <= now - self.period:
            window.popleft()
        if len(window) >= self.max_calls:
            raise too_many_requests(max(1, math.ceil(window[0] + self.period - now)))
        window.append(now)


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    has_custom_certificate: bool
    ip_address: str | None
    last_error_date: int | None = None
    last_error_message: str | None = None
    retry_at: float = 0.0


class _Client:
    """The connection a request came in on, to notice when the client hangs up."""

    def __init__(self, sock: socket.socket | None) -> None:
        self.sock = sock

    def gone(self, wait: float = 0.0) -> bool:
        if self.sock is None:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], wait)
            return bool(readable) and self.sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


# --------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------


class TelegramStandin:
    """A Telegram Bot API stand-in on ``127.0.0.1`` with controls for tests. Thread-safe."""

    def __init__(
        self,
        *,
        bot_id: int = DEFAULT_BOT_ID,
        username: str = "citebot_test_bot",
        first_name: str = "CiteBot",
        token: str | None = None,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        supports_inline_queries: bool = False,
        strict_html_entities: bool = True,
        callback_query_ttl: float = 15.0,
        deliver_webhooks: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token or f"{bot_id}:{TOKEN_SECRET}"
        if not _TOKEN_RE.fullmatch(self.token) or not self.token.startswith(f"{bot_id}:"):
            raise ValueError(f"token must look like '{bot_id}:<secret>', got {self.token!r}")
        if not re.fullmatch(r"[A-Za-z]\w{3,31}", username, re.A) or username[-3:].lower() != "bot":
            raise ValueError(f"a bot username is 5-32 characters ending in 'bot': {username!r}")
        self.bot_user: JSON = {
            "id": bot_id, "is_bot": True, "first_name": first_name, "username": username,
        }  # fmt: skip
        self._me_extra = {
            "can_join_groups": can_join_groups,
            "can_read_all_group_messages": can_read_all_group_messages,
            "supports_inline_queries": supports_inline_queries,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self.strict_html_entities = strict_html_entities
        self.callback_query_ttl = callback_query_ttl
        self.deliver_webhooks = deliver_webhooks
        self._address = (host, port)

        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._calls: list[ApiCall] = []
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSON] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(100001)
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poller: object | None = None
        self._webhook: _Webhook | None = None
        self._webhook_history: list[JSON] = []
        self._webhook_deliveries: list[JSON] = []
        self._commands: dict[str, list[JSON]] = {}
        self._callback_queries: dict[str, JSON] = {}
        self._callback_answers: list[JSON] = []
        self._chat_actions: list[JSON] = []
        self._suppressed: list[JSON] = []
        self._injected: dict[str, deque[_InjectedError]] = {}
        self._held: dict[str, threading.Event] = {}
        self._photos: list[bytes] = []
        self._rate_limits: list[_RateLimit] = []
        self._query_ids = itertools.count(4000000000000000001)
        self._stopping = False
        self._httpd: _StandinHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._methods: dict[str, tuple[str, Callable[[Params, _Client], Any]]] = {
            name.lower(): (name, handler) for name, handler in self._api_table().items()
        }

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> TelegramStandin:
        """Bind (a free port by default) and serve in background threads."""
        if self._httpd is not None:
            raise RuntimeError("the stand-in is already running")
        self._stopping = False
        self._httpd = _StandinHTTPServer(self._address, self)
        serve = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="telegram-standin-http", daemon=True,
        )  # fmt: skip
        deliver = threading.Thread(
            target=self._webhook_loop, name="telegram-standin-webhook", daemon=True
        )
        self._threads = [serve, deliver]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """Wake any long poll, close all connections and stop serving."""
        httpd = self._httpd
        if httpd is None:
            return
        with self._lock:
            self._stopping = True
            self._changed.notify_all()
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> TelegramStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; give PTB ``f"{base_url}/bot"``."""
        if self._httpd is None:
            raise RuntimeError("the stand-in is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}``: prefix for raw HTTP calls, e.g. ``{api_url}/getMe``."""
        return f"{self.base_url}/bot{self.token}"

    # -- request handling -----------------------------------------------------------------

    def handle(
        self, http_method: str, path: str, params: JSON, sock: socket.socket | None = None
    ) -> tuple[int, JSON] | None:
        """Answer one HTTP request: ``(status, body)``, or None to hang up without a reply."""
        match = _PATH_RE.fullmatch(path)
        token, name = match.groups() if match else ("", "")
        method, handler = self._methods.get(name.lower(), (name, None))
        client = _Client(sock)
        injected = False
        try:
            with self._lock:
                self._check_access(token, name, handler)
                result = handler(Params(params), client)
            status, body = 200, self._ok_body(result)
        except _Terminated:
            if client.gone(wait=0.3):
                self._record(ApiCall(method, params, http_method, 0, None, abandoned=True))
                return None
            status, body = 409, ApiError(409, CONFLICT_POLLER).payload()
        except _Abandoned:
            self._record(ApiCall(method, params, http_method, 0, None, abandoned=True))
            return None
        except ApiError as error:
            status, body, injected = error.code, error.payload(), error.injected
        self._record(ApiCall(method, params, http_method, status, body, injected=injected))
        held = self._held.get(method.lower())
        if held is not None:
            held.wait(HOLD_LIMIT_SECONDS)  # the call has taken effect; its response waits
        return status, body

    def _check_access(self, token: str, name: str, handler: Any) -> None:
        if token != self.token:
            if _TOKEN_RE.fullmatch(token):
                raise ApiError(401, "Unauthorized")
            raise ApiError(404, "Not Found")
        if handler is None:
            if _is_bot_api_method(name):
                raise ApiError(501, f"Not Implemented: the Telegram stand-in has no {name}")
            raise ApiError(404, "Not Found")
        self._raise_injected(name.lower())

    def _raise_injected(self, key: str) -> None:
        queue = self._injected.get(key)
        if not queue:
            return
        injected = queue[0]
        injected.remaining -= 1
        if injected.remaining <= 0:
            queue.popleft()
        raise ApiError(
            injected.error.code, injected.error.description, injected.error.parameters,
            injected=True,
        )  # fmt: skip

    @staticmethod
    def _ok_body(result: Any) -> JSON:
        if isinstance(result, _Described):
            return {"ok": True, "result": result.result, "description": result.description}
        return {"ok": True, "result": result}

    def _record(self, call: ApiCall) -> None:
        with self._lock:
            self._calls.append(copy.deepcopy(call))
            self._changed.notify_all()

    def _api_table(self) -> dict[str, Callable[[Params, _Client], Any]]:
        return {
            "getMe": self._api_get_me,
            "logOut": self._api_true,
            "close": self._api_true,
            "getUpdates": self._api_get_updates,
            "setWebhook": self._api_set_webhook,
            "deleteWebhook": self._api_delete_webhook,
            "getWebhookInfo": self._api_get_webhook_info,
            "setMyCommands": self._api_set_my_commands,
            "getMyCommands": self._api_get_my_commands,
            "deleteMyCommands": self._api_delete_my_commands,
            "sendMessage": self._api_send_message,
            "sendPhoto": self._api_send_photo,
            "editMessageText": self._api_edit_message_text,
            "editMessageReplyMarkup": self._api_edit_message_reply_markup,
            "deleteMessage": self._api_delete_message,
            "answerCallbackQuery": self._api_answer_callback_query,
            "sendChatAction": self._api_send_chat_action,
        }

    # -- API: bot, updates, webhooks ------------------------------------------------------

    def _api_get_me(self, p: Params, client: _Client) -> JSON:
        return {**self.bot_user, **self._me_extra}

    def _api_true(self, p: Params, client: _Client) -> bool:
        return True

    def _api_get_updates(self, p: Params, client: _Client) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.number("timeout", 0.0), 0.0)
        if "allowed_updates" in p:
            self._allowed_updates = self._parse_allowed_updates(p)
        self._confirm_updates(p.integer("offset"))
        ticket = object()
        self._poller = ticket
        self._changed.notify_all()
        deadline = time.monotonic() + timeout
        while True:
            if self._poller is not ticket:
                raise _Terminated
            updates = self._deliverable_updates(limit)
            if updates or self._stopping:
                return updates
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._changed.wait(min(remaining, 0.1))
            if client.gone():
                raise _Abandoned

    @staticmethod
    def _parse_allowed_updates(p: Params) -> frozenset[str]:
        allowed = p.json_value("allowed_updates", list, "allowed updates") or []
        chosen = frozenset(str(kind) for kind in allowed) & ALL_UPDATE_TYPES
        return chosen or DEFAULT_UPDATE_TYPES

    def _confirm_updates(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _deliverable_updates(self, limit: int) -> list[JSON]:
        self._updates = [u for u in self._updates if _update_type(u) in self._allowed_updates]
        return copy.deepcopy(self._updates[:limit])

    def _api_set_webhook(self, p: Params, client: _Client) -> _Described:
        url = p.text("url") or ""
        if not url:
            return self._api_delete_webhook(p, client)
        _check_webhook_url(url)
        secret = p.text("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad_request("secret token contains unallowed characters")
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in p:
            self._allowed_updates = self._parse_allowed_updates(p)
        already = self._webhook is not None and self._webhook.url == url
        self._webhook = _Webhook(
            url=url, secret_token=secret,
            max_connections=min(max(p.integer("max_connections", 40) or 40, 1), 100),
            allowed_updates=p.get("allowed_updates"),
            has_custom_certificate="certificate" in p, ip_address=p.text("ip_address"),
        )  # fmt: skip
        self._webhook_history.append(copy.deepcopy(p.values))
        self._changed.notify_all()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    def _api_delete_webhook(self, p: Params, client: _Client) -> _Described:
        if p.flag("drop_pending_updates"):
            self._updates.clear()
        was_set, self._webhook = self._webhook is not None, None
        return _Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _api_get_webhook_info(self, p: Params, client: _Client) -> JSON:
        info: JSON = {
            "url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates),
        }  # fmt: skip
        hook = self._webhook
        if hook is None:
            return info
        info.update(url=hook.url, has_custom_certificate=hook.has_custom_certificate)
        info["max_connections"] = hook.max_connections
        optional = {
            "ip_address": hook.ip_address, "allowed_updates": hook.allowed_updates,
            "last_error_date": hook.last_error_date, "last_error_message": hook.last_error_message,
        }  # fmt: skip
        info.update({key: value for key, value in optional.items() if value is not None})
        return info

    # -- API: commands --------------------------------------------------------------------

    @staticmethod
    def _commands_key(p: Params) -> str:
        scope = p.json_value("scope", dict, "bot command scope") or {"type": "default"}
        return json.dumps([scope, p.text("language_code") or ""], sort_keys=True)

    def _api_set_my_commands(self, p: Params, client: _Client) -> bool:
        commands = p.json_value("commands", list, "bot commands")
        if commands is None:
            raise bad_request("commands is empty")
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _api_get_my_commands(self, p: Params, client: _Client) -> list[JSON]:
        return copy.deepcopy(self._commands.get(self._commands_key(p), []))

    def _api_delete_my_commands(self, p: Params, client: _Client) -> bool:
        self._commands.pop(self._commands_key(p), None)
        return True

    # -- API: messages --------------------------------------------------------------------

    def _chat_for_bot(self, p: Params) -> _Chat:
        """The chat a bot call addresses, with Telegram's errors for chats it can't use."""
        chat_id = p.get("chat_id")
        if chat_id in (None, ""):
            raise bad_request("chat_id is empty")
        chat = None
        if isinstance(chat_id, int) and not isinstance(chat_id, bool):
            chat = self._chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next(
                (c for c in self._chats.values()
                 if c.info["type"] != "private"
                 and str(c.info.get("username", "")).lower() == chat_id[1:].lower()),
                None,
            )  # fmt: skip
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _formatted_text(
        self, p: Params, *, empty_error: str = "message text is empty"
    ) -> tuple[str, list[JSON]]:
        text = p.text("text") or ""
        if re.search(r"[\ud800-\udfff]", text):
            raise bad_request("text must be encoded in UTF-8")
        explicit = p.json_value("entities", list, "message entities")
        mode = (p.text("parse_mode") or "").lower()
        if explicit is not None:
            entities = [e for e in explicit if isinstance(e, dict)]
        elif mode == "html":
            text, entities = parse_html(text, strict_entities=self.strict_html_entities)
        elif mode in ("markdown", "markdownv2"):
            raise bad_request(f"parse_mode {p.text('parse_mode')} is not supported by the stand-in")
        elif mode:
            raise bad_request(f"unsupported parse_mode {p.text('parse_mode')}")
        else:
            entities = []
        text, entities = trim_text(text, entities)
        if not text:
            raise bad_request(empty_error)
        entities = _sort_entities(entities + find_entities(text, entities))
        return text, entities

    def _reply_target(self, p: Params, chat: _Chat) -> JSON | None:
        params = p.json_value("reply_parameters", dict, "reply parameters") or {}
        message_id = params.get("message_id", p.integer("reply_to_message_id"))
        if message_id is None:
            return None
        target = chat.messages.get(message_id) if isinstance(message_id, int) else None
        if target is not None:
            return _without_reply(target)
        allow = params.get("allow_sending_without_reply", p.flag("allow_sending_without_reply"))
        if allow is True:
            return None
        raise bad_request("message to be replied not found")

    def _new_message(self, chat: _Chat, sender: JSON, text: str, entities: list[JSON]) -> JSON:
        message: JSON = {
            "message_id": chat.next_message_id, "from": copy.deepcopy(sender),
            "chat": copy.deepcopy(chat.info), "date": int(time.time()), "text": text,
        }  # fmt: skip
        chat.next_message_id += 1
        if entities:
            message["entities"] = entities
        return message

    def _api_send_message(self, p: Params, client: _Client) -> JSON:
        chat = self._chat_for_bot(p)
        text, entities = self._formatted_text(p)
        if utf16_len(text) > MAX_MESSAGE_UTF16:
            raise bad_request("message is too long")
        markup = p.json_value("reply_markup", dict, "reply keyboard markup")
        echoed = validate_reply_markup(markup) if markup is not None else None
        reply_to = self._reply_target(p, chat)
        self._check_rate_limits("sendMessage", chat.info["id"])
        message = self._new_message(chat, self.bot_user, text, entities)
        if echoed:
            message["reply_markup"] = echoed
        if reply_to:
            message["reply_to_message"] = reply_to
        if p.flag("protect_content"):
            message["has_protected_content"] = True
        chat.messages[message["message_id"]] = message
        return copy.deepcopy(message)

    def _api_send_photo(self, p: Params, client: _Client) -> JSON:
        """sendPhoto with the photo uploaded as a multipart file (a file_id or URL is not
        modelled): a PNG, JPEG, GIF or WebP image of at most 10 MB; an optional caption
        (parse_mode applies) of at most 1024 characters."""
        chat = self._chat_for_bot(p)
        photo = p.get("photo")
        if photo in (None, ""):
            raise bad_request("there is no photo in the request")
        if not isinstance(photo, dict):
            raise bad_request("the stand-in only models photos uploaded as multipart files")
        content: bytes = photo["content"]
        if len(content) > MAX_PHOTO_BYTES:
            raise bad_request("file is too big")
        if not content.startswith(_IMAGE_MAGIC):
            raise bad_request("IMAGE_PROCESS_FAILED")
        caption, entities = "", []
        if p.text("caption"):
            caption, entities = self._formatted_text(
                Params({**p.values, "text": p.text("caption")}))
            if utf16_len(caption) > MAX_CAPTION_UTF16:
                raise bad_request("message caption is too long")
        reply_to = self._reply_target(p, chat)
        self._check_rate_limits("sendPhoto", chat.info["id"])
        message = self._new_message(chat, self.bot_user, "", [])
        del message["text"]
        message["photo"] = [{"file_id": f"photo-{message['message_id']}",
                             "file_unique_id": f"u{message['message_id']}",
                             "width": 800, "height": 600, "file_size": len(content)}]
        self._photos.append(content)
        if caption:
            message["caption"] = caption
            if entities:
                message["caption_entities"] = entities
        if reply_to:
            message["reply_to_message"] = reply_to
        chat.messages[message["message_id"]] = message
        return copy.deepcopy(message)

    def _message_to_edit(self, p: Params) -> tuple[_Chat, JSON]:
        if "inline_message_id" in p:
            raise bad_request("MESSAGE_ID_INVALID")
        chat = self._chat_for_bot(p)
        message_id = p.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return chat, message

    def _edited_markup(self, p: Params) -> JSON | None:
        markup = p.json_value("reply_markup", dict, "inline keyboard markup")
        return validate_reply_markup(markup, inline_only=True) if markup is not None else None

    def _api_edit_message_text(self, p: Params, client: _Client) -> JSON:
        chat, message = self._message_to_edit(p)
        text, entities = self._formatted_text(p)
        if utf16_len(text) > MAX_MESSAGE_UTF16:
            raise bad_request("MESSAGE_TOO_LONG")
        markup = self._edited_markup(p)
        same = (text, entities, markup) == (
            message["text"], message.get("entities", []), message.get("reply_markup"),
        )  # fmt: skip
        if same:
            raise ApiError(400, NOT_MODIFIED)
        self._check_rate_limits("editMessageText", chat.info["id"])
        message.update(text=text, edit_date=int(time.time()))
        _set_or_drop(message, "entities", entities)
        _set_or_drop(message, "reply_markup", markup)
        return copy.deepcopy(message)

    def _api_edit_message_reply_markup(self, p: Params, client: _Client) -> JSON:
        chat, message = self._message_to_edit(p)
        markup = self._edited_markup(p)
        if markup == message.get("reply_markup"):
            raise ApiError(400, NOT_MODIFIED)
        self._check_rate_limits("editMessageReplyMarkup", chat.info["id"])
        message["edit_date"] = int(time.time())
        _set_or_drop(message, "reply_markup", markup)
        return copy.deepcopy(message)

    def _api_delete_message(self, p: Params, client: _Client) -> bool:
        chat = self._chat_for_bot(p)
        message_id = p.integer("message_id")
        if message_id is None:
            raise bad_request("message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to delete not found")
        own = message["from"]["id"] == self.bot_user["id"]
        if not own and chat.info["type"] != "private" and not chat.bot_is_admin:
            raise bad_request("message can't be deleted")
        del chat.messages[message_id]
        return True

    def _api_answer_callback_query(self, p: Params, client: _Client) -> bool:
        query_id = p.text("callback_query_id") or ""
        query = self._callback_queries.get(query_id)
        expired = query is None or time.monotonic() - query["_at"] > self.callback_query_ttl
        if expired or query["_answered"]:
            raise ApiError(400, QUERY_TOO_OLD)
        text = p.text("text") or ""
        if utf16_len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query["_answered"] = True
        answer = {key: value for key, value in p.values.items() if value is not None}
        self._callback_answers.append(answer)
        return True

    def _api_send_chat_action(self, p: Params, client: _Client) -> bool:
        chat = self._chat_for_bot(p)
        action = p.text("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._chat_actions.append({"chat_id": chat.info["id"], "action": action})
        return True

    def _check_rate_limits(self, method: str, chat_id: int) -> None:
        for limit in self._rate_limits:
            limit.check(method, chat_id)

    # -- webhook delivery -----------------------------------------------------------------

    def _webhook_loop(self) -> None:
        while True:
            with self._lock:
                job = self._next_webhook_job()
                while job is None and not self._stopping:
                    self._changed.wait(0.1)
                    job = self._next_webhook_job()
                if self._stopping:
                    return
            url, secret, update = job  # type: ignore[misc]
            status, error = _post_json(url, update, secret)
            self._webhook_delivered(update, status, error)

    def _next_webhook_job(self) -> tuple[str, str | None, JSON] | None:
        hook = self._webhook
        if not self.deliver_webhooks or hook is None or time.monotonic() < hook.retry_at:
            return None
        updates = self._deliverable_updates(1)
        return (hook.url, hook.secret_token, updates[0]) if updates else None

    def _webhook_delivered(self, update: JSON, status: int, error: str | None) -> None:
        with self._lock:
            self._webhook_deliveries.append({"update": update, "status": status, "error": error})
            hook = self._webhook
            if 200 <= status < 300:
                self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
            elif hook is not None:
                hook.last_error_date = int(time.time())
                hook.last_error_message = error or f"Wrong response from the webhook: {status}"
                hook.retry_at = time.monotonic() + 0.5
            self._changed.notify_all()

    # -- test controls: the world around the bot ------------------------------------------

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str = "private",
        title: str | None = None,
        username: str | None = None,
        first_name: str | None = None,
        bot_is_admin: bool = False,
    ) -> JSON:
        """Make a chat known (it is created by the first user message anyway); its Chat dict."""
        if chat_type not in ("private", "group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {chat_type!r}")
        if (chat_type == "private") != (chat_id > 0):
            raise ValueError("private chats have positive ids, groups and channels negative ones")
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None:
                chat = self._chats[chat_id] = _Chat(info={"id": chat_id, "type": chat_type})
            info = chat.info
            info["type"] = chat_type
            if chat_type == "private":
                info["first_name"] = first_name or info.get("first_name") or f"User{chat_id}"
            else:
                info["title"] = title or info.get("title") or f"Chat {chat_id}"
            if username:
                info["username"] = username
            chat.bot_is_admin = chat.bot_is_admin or bot_is_admin
            return copy.deepcopy(info)

    def set_blocked(self, chat_id: int, blocked: bool = True) -> None:
        """Simulate a user who blocked the bot: sends to them fail with 403."""
        with self._lock:
            if chat_id not in self._chats:
                raise ValueError(f"unknown chat {chat_id}; add it first")
            self._chats[chat_id].blocked = blocked

    def add_user_message(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        chat_type: str = "private",
        chat_title: str | None = None,
        username: str | None = None,
        first_name: str = "Alice",
        last_name: str | None = None,
        language_code: str | None = "en",
        reply_to_message_id: int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A user writes ``text``: store the message and queue its Update (returned).

        Entities default to what a Telegram client computes (bot commands, mentions, URLs,
        hashtags). In groups, privacy mode may keep the update from the bot; such updates
        are listed by :meth:`suppressed_updates` instead of being queued.
        """
        if chat_type == "private" and chat_id != user_id:
            raise ValueError("in a private chat, chat_id is the user's id")
        with self._lock:
            user = self._remember_user(user_id, first_name, last_name, username, language_code)
            private = chat_type == "private"
            self.add_chat(
                chat_id, chat_type=chat_type, title=chat_title,
                username=username if private else None, first_name=first_name,
            )  # fmt: skip
            chat = self._chats[chat_id]
            found = entities if entities is not None else find_entities(text)
            message = self._new_message(chat, user, text, _sort_entities(found))
            if reply_to_message_id is not None:
                if reply_to_message_id not in chat.messages:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = _without_reply(chat.messages[reply_to_message_id])
            chat.messages[message["message_id"]] = message
            update = {"update_id": next(self._update_ids), "message": copy.deepcopy(message)}
            if self._bot_sees(chat, message):
                self._queue_update(update)
            else:
                self._suppressed.append(update)
            return copy.deepcopy(update)

    def _remember_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
    ) -> JSON:
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        user.update({key: value for key, value in optional.items() if value})
        self._users[user_id] = user
        return user

    def _bot_sees(self, chat: _Chat, message: JSON) -> bool:
        """Privacy mode: what a group bot receives without can_read_all_group_messages."""
        if chat.info["type"] == "private" or chat.bot_is_admin:
            return True
        if self._me_extra["can_read_all_group_messages"]:
            return True
        text: str = message["text"].lower()
        mention = "@" + self.bot_user["username"].lower()
        command = re.match(r"/\w+(@\w+)?", text)
        replied = message.get("reply_to_message", {}).get("from", {})
        return (
            bool(command and command.group(1) in (None, mention))
            or mention in text
            or replied.get("id") == self.bot_user["id"]
        )

    def add_callback_query(
        self, chat_id: int, user_id: int, message_id: int, data: str, *, first_name: str = "Alice"
    ) -> JSON:
        """A user presses the inline button with ``data`` under a message; the Update."""
        with self._lock:
            chat = self._chats.get(chat_id)
            message = chat.messages.get(message_id) if chat else None
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if data not in _callback_datas(message.get("reply_markup")):
                raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
            user = self._users.get(user_id) or self._remember_user(
                user_id, first_name, None, None, "en"
            )
            query_id = str(next(self._query_ids))
            query = {
                "id": query_id, "from": copy.deepcopy(user), "message": copy.deepcopy(message),
                "chat_instance": str(abs(chat_id) * 7 + 3), "data": data,
            }  # fmt: skip
            self._callback_queries[query_id] = {"_at": time.monotonic(), "_answered": False}
            update = {"update_id": next(self._update_ids), "callback_query": query}
            self._queue_update(update)
            return copy.deepcopy(update)

    def add_update(self, update: JSON) -> JSON:
        """Queue any raw Update dict (``update_id`` is assigned when missing)."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **copy.deepcopy(update)}
            self._queue_update(update)
            return copy.deepcopy(update)

    def _queue_update(self, update: JSON) -> None:
        self._updates.append(copy.deepcopy(update))
        self._changed.notify_all()

    # -- test controls: failures ----------------------------------------------------------

    def inject_error(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``error_code``.

        429 gets Telegram's ``Too Many Requests: retry after N`` with
        ``parameters.retry_after``; other codes get a typical Telegram description unless
        ``description`` is given. The failing calls have no effect.
        """
        if error_code == 429:
            error = too_many_requests(retry_after)
            if description:
                error.description = description
        else:
            text = description or DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
            error = ApiError(error_code, text)
        with self._lock:
            queue = self._injected.setdefault(method.lower(), deque())
            queue.append(_InjectedError(error, times))

    def hold_responses(self, method: str) -> threading.Event:
        """Until the returned event is set, calls of ``method`` take effect (a sent message
        is in the chat and visible to the test) but their HTTP responses are held back:
        the moment between Telegram showing a message and the bot learning its id."""
        release = threading.Event()
        with self._lock:
            self._held[method.lower()] = release
        return release

    def release_responses(self, method: str) -> None:
        """Let held responses of ``method`` go, and stop holding new ones."""
        with self._lock:
            release = self._held.pop(method.lower(), None)
        if release is not None:
            release.set()

    def set_rate_limit(
        self,
        max_calls: int,
        period: float,
        *,
        per_chat: bool = True,
        methods: Iterable[str] = ("sendMessage", "editMessageText", "editMessageReplyMarkup"),
    ) -> None:
        """Answer 429 (with the real ``retry_after``) past ``max_calls`` per ``period`` s.

        Telegram's own limits are about 1 message/s per chat, 20/min per group and 30/s
        overall, e.g. ``set_rate_limit(20, 60)`` for a group.
        """
        with self._lock:
            self._rate_limits.append(_RateLimit(max_calls, period, per_chat, frozenset(methods)))

    def clear_rate_limits(self) -> None:
        with self._lock:
            self._rate_limits.clear()

    # -- test controls: observing the bot -------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        """Every API request so far (method, params, http_method, status, response...)."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        """The successful and failed calls of one method (name as in the Bot API docs)."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def errors(self, *, include_injected: bool = False) -> list[ApiCall]:
        """Calls answered with an error (those caused by :meth:`inject_error` on request)."""
        return [
            call
            for call in self.calls
            if not call.ok and not call.abandoned and (include_injected or not call.injected)
        ]

    def mark(self) -> int:
        """A position in :attr:`calls`, for ``since=`` of the ``wait_for_*`` helpers."""
        with self._lock:
            return len(self._calls)

    def sent_messages(self, chat_id: int | None = None) -> list[JSON]:
        """Messages returned by successful sendMessage calls, as sent (edits not applied)."""
        return [
            call.result
            for call in self.calls_to("sendMessage")
            if call.ok and (chat_id is None or call.result["chat"]["id"] == chat_id)
        ]

    def messages_in_chat(self, chat_id: int) -> list[JSON]:
        """The chat as it is now: user and bot messages, edits applied, deletions gone."""
        with self._lock:
            chat = self._chats.get(chat_id)
            messages = chat.messages.values() if chat else []
            return copy.deepcopy(sorted(messages, key=lambda m: m["message_id"]))

    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by an offset (or delivered by webhook)."""
        with self._lock:
            return copy.deepcopy(self._updates)

    def suppressed_updates(self) -> list[JSON]:
        """Group messages privacy mode kept from the bot."""
        with self._lock:
            return copy.deepcopy(self._suppressed)

    def callback_answers(self) -> list[JSON]:
        """Parameters of every successful answerCallbackQuery."""
        with self._lock:
            return copy.deepcopy(self._callback_answers)

    def photos(self) -> list[bytes]:
        """The image bytes of every successful sendPhoto, in order."""
        with self._lock:
            return list(self._photos)

    def chat_actions(self) -> list[JSON]:
        """``{"chat_id", "action"}`` of every successful sendChatAction."""
        with self._lock:
            return copy.deepcopy(self._chat_actions)

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """The commands set with setMyCommands for a scope (default scope by default)."""
        key = json.dumps([scope or {"type": "default"}, language_code], sort_keys=True)
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    @property
    def webhook(self) -> JSON | None:
        """The parameters of the setWebhook call in force, or None."""
        with self._lock:
            if self._webhook is None or not self._webhook_history:
                return None
            return copy.deepcopy(self._webhook_history[-1])

    def webhook_deliveries(self) -> list[JSON]:
        """``{"update", "status", "error"}`` of every automatic webhook POST."""
        with self._lock:
            return copy.deepcopy(self._webhook_deliveries)

    # -- waiting --------------------------------------------------------------------------

    def wait_for(
        self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition"
    ) -> T:
        """Wait until ``predicate()`` is truthy (re-checked on every change); return it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    recent = [(c.method, c.status, c.description) for c in self._calls[-8:]]
                    raise TimeoutError(f"no {what} within {timeout}s; last calls: {recent}")
                self._changed.wait(min(remaining, 0.1))

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> ApiCall:
        """The first call of ``method`` at index >= ``since`` matching ``predicate``."""

        def find() -> ApiCall | None:
            for call in self._calls[since:]:
                if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                    return copy.deepcopy(call)
            return None

        return self.wait_for(find, timeout, f"a {method} call")

    def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 10.0,
        since: int = 0,
    ) -> JSON:
        """The first message the bot sent or edited in ``chat_id`` (call index >= ``since``).

        Returns the Message of the successful sendMessage / editMessageText /
        editMessageReplyMarkup call; pass ``since=standin.mark()`` taken before the action
        to skip earlier messages.
        """
        kinds = {"sendmessage", "editmessagetext", "editmessagereplymarkup"}

        def find() -> JSON | None:
            for call in self._calls[since:]:
                result = call.result
                if (
                    call.method.lower() in kinds
                    and call.ok
                    and isinstance(result, dict)
                    and result["chat"]["id"] == chat_id
                    and (predicate is None or predicate(result))
                ):
                    return copy.deepcopy(result)
            return None

        return self.wait_for(find, timeout, f"a message in chat {chat_id}")

    # -- webhooks from the test side ------------------------------------------------------

    def post_update_to_webhook(
        self, url: str | None, update: JSON, secret_token: str | None = None
    ) -> int:
        """POST ``update`` as Telegram would; returns the HTTP status.

        ``url`` / ``secret_token`` default to those of the webhook set by the bot.
        """
        hook = self.webhook or {}
        target = url or hook.get("url")
        if not target:
            raise ValueError("no url given and no webhook set")
        secret = secret_token if secret_token is not None else hook.get("secret_token")
        status, error = _post_json(target, update, secret)
        if status == 0:
            raise ConnectionError(f"webhook POST to {target} failed: {error}")
        return status


@dataclass
class _Described:
    """An ok result with Telegram's extra ``description`` (setWebhook, deleteWebhook)."""

    result: Any
    description: str


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _without_reply(message: JSON) -> JSON:
    """A message as nested in ``reply_to_message`` (Telegram nests one level only)."""
    return {k: copy.deepcopy(v) for k, v in message.items() if k != "reply_to_message"}


def _set_or_drop(target: JSON, key: str, value: Any) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if not loopback and (parts.port or 443) not in (80, 88, 443, 8443):
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


def _post_json(url: str, update: JSON, secret: str | None) -> tuple[int, str | None]:
    """POST one update as Telegram does: (status, error text); status 0 if unreachable."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    data = json.dumps(update).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, f"Wrong response from the webhook: {error.code} {error.reason}"
    except (OSError, urllib.error.URLError) as error:
        return 0, f"Connection refused: {error}"


@functools.cache
def _bot_api_methods() -> frozenset[str]:
    """Lower-cased names of all Bot API methods (from PTB's camelCase aliases)."""
    import telegram

    return frozenset(
        attr.lower()
        for attr in dir(telegram.Bot)
        if attr[:1].islower() and "_" not in attr and callable(getattr(telegram.Bot, attr))
    )


def _is_bot_api_method(name: str) -> bool:
    return name.lower() in _bot_api_methods()


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


class _StandinHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], standin: TelegramStandin) -> None:
        super().__init__(address, _Handler)
        self.standin = standin
        self._sockets: set[socket.socket] = set()
        self._sockets_lock = threading.Lock()

    def track(self, sock: socket.socket, open_: bool) -> None:
        with self._sockets_lock:
            (self._sockets.add if open_ else self._sockets.discard)(sock)

    def close_connections(self) -> None:
        with self._sockets_lock:
            sockets = list(self._sockets)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _StandinHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        super().finish()

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline().strip():
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _serve(self, http_method: str) -> None:
        url = urlsplit(self.path)
        body = self._read_body()
        try:
            params = decode_request(url.query, self.headers.get("Content-Type", ""), body)
        except ApiError as error:
            self._respond(error.code, error.payload())
            return
        outcome = self.server.standin.handle(http_method, url.path, params, self.connection)
        if outcome is None:
            self.close_connection = True
            return
        self._respond(*outcome)

    def _respond(self, status: int, body: JSON) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True


# --------------------------------------------------------------------------------------
# pytest
# --------------------------------------------------------------------------------------


@pytest.fixture(name="telegram_standin")
def telegram_standin_fixture() -> Iterator[TelegramStandin]:
    """Fixture ``telegram_standin``: a running :class:`TelegramStandin`, stopped after the test.

    Import it into a conftest or test module to use it:
    ``from tests.telegram_standin import telegram_standin_fixture  # noqa: F401``.
    """
    with TelegramStandin() as standin:
        yield standin
