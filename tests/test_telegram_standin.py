"""Tests of the Telegram Bot API stand-in, driven by the real python-telegram-bot over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TypeVar

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.telegram_standin import TelegramStandin, telegram_standin_fixture  # noqa: F401

T = TypeVar("T")
USER = 424242


def with_bot(standin: TelegramStandin, scenario: Callable[[Bot], Awaitable[T]]) -> T:
    """Run ``scenario`` with a real, initialised PTB Bot pointed at the stand-in."""

    async def main() -> T:
        async with Bot(standin.token, base_url=f"{standin.base_url}/bot") as bot:
            return await scenario(bot)

    return asyncio.run(main())


def raw_call(url: str, data: bytes | None = None, content_type: str = "") -> tuple[int, Any]:
    """One plain HTTP request; (status, decoded JSON body)."""
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Press", callback_data=data)]])


# -- protocol -------------------------------------------------------------------------------


def test_get_me_reports_the_configured_bot(telegram_standin: TelegramStandin) -> None:
    me = with_bot(telegram_standin, lambda bot: bot.get_me())
    assert me.id == int(telegram_standin.token.split(":")[0])
    assert me.username == "citebot_test_bot"
    assert me.is_bot and me.can_join_groups and not me.can_read_all_group_messages


def test_tokens_and_methods_are_checked_like_telegram(telegram_standin: TelegramStandin) -> None:
    base = telegram_standin.base_url
    assert raw_call(f"{base}/bot123:wrongsecret/getMe") == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert raw_call(f"{telegram_standin.api_url}/noSuchMethod") == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    status, body = raw_call(f"{telegram_standin.api_url}/sendVideo", b"{}", "application/json")
    assert status == 501 and not body["ok"]
    assert raw_call(f"{telegram_standin.api_url}/getme")[1]["result"]["is_bot"] is True


def test_request_encodings_json_form_multipart_and_query(
    telegram_standin: TelegramStandin,
) -> None:
    telegram_standin.add_chat(USER, first_name="Alice")
    api = telegram_standin.api_url
    markup = json.dumps({"inline_keyboard": [[{"text": "x", "callback_data": "d"}]]})
    body = json.dumps({"chat_id": USER, "text": "json", "reply_markup": json.loads(markup)})
    assert raw_call(f"{api}/sendMessage", body.encode(), "application/json")[0] == 200
    form = urllib.parse.urlencode({"chat_id": str(USER), "text": "form", "reply_markup": markup})
    assert raw_call(f"{api}/sendMessage", form.encode(), "application/x-www-form-urlencoded")[0]
    multipart = (
        '--XX\r\nContent-Disposition: form-data; name="chat_id"\r\n\r\n'
        f"{USER}\r\n"
        '--XX\r\nContent-Disposition: form-data; name="text"\r\n\r\nmultipart\r\n--XX--\r\n'
    ).encode()
    assert raw_call(f"{api}/sendMessage", multipart, "multipart/form-data; boundary=XX")[0] == 200
    query = urllib.parse.urlencode({"chat_id": USER, "text": "query"})
    assert raw_call(f"{api}/sendMessage?{query}")[0] == 200
    sent = telegram_standin.sent_messages(USER)
    assert [m["text"] for m in sent] == ["json", "form", "multipart", "query"]
    assert sent[1]["reply_markup"] == json.loads(markup)
    assert telegram_standin.calls_to("sendMessage")[1].params["chat_id"] == USER


# -- sendMessage validation ------------------------------------------------------------------


def test_send_message_parses_html_into_entities(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_user_message(USER, USER, "hi")
    html = (
        '<b>Answer</b> &amp; <a href="https://example.com/a?b=1&amp;c=2">source</a>\n'
        '<pre><code class="language-python">x = 1</code></pre> <i>😀 end</i>'
    )
    message = with_bot(
        telegram_standin,
        lambda bot: bot.send_message(USER, html, parse_mode=ParseMode.HTML),
    )
    assert message.text == "Answer & source\nx = 1 😀 end"
    kinds = [(e.type, e.offset, e.length) for e in message.entities]
    assert kinds == [("bold", 0, 6), ("text_link", 9, 6), ("pre", 16, 5), ("italic", 22, 6)]
    assert message.entities[1].url == "https://example.com/a?b=1&c=2"
    assert message.entities[2].language == "python"
    assert message.from_user.id == telegram_standin.bot_user["id"]
    assert message.message_id == 2  # after the user's message
    assert telegram_standin.errors() == []


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("Hello <foo>x</foo>", 'unsupported start tag "foo" at byte offset 6'),
        ("a&nbsp;b", "&nbsp;"),
        ("<b>unclosed", 'can\'t find end tag corresponding to start tag "b"'),
        ("1 < 2", 'unsupported start tag "" at byte offset 2'),
        ("AT&T", '"&"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("</b>", "unexpected end tag at byte offset 0"),
    ],
)
def test_invalid_html_is_rejected(
    telegram_standin: TelegramStandin, html: str, detail: str
) -> None:
    telegram_standin.add_chat(USER)
    with pytest.raises(BadRequest, match="an't parse entities") as raised:
        with_bot(telegram_standin, lambda bot: bot.send_message(USER, html, parse_mode="HTML"))
    assert detail.lower() in str(raised.value).lower()
    assert (
        telegram_standin.errors()[0]
        .response["description"]
        .startswith("Bad Request: can't parse entities: ")
    )


def test_text_length_is_counted_in_utf16_after_parsing(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_chat(USER)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER, "a" * 4096)
        await bot.send_message(USER, "😀" * 2048)  # 2048 characters, 4096 UTF-16 units
        await bot.send_message(USER, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
        for too_long in ("a" * 4097, "😀" * 2048 + "a"):
            with pytest.raises(BadRequest, match="Message is too long"):
                await bot.send_message(USER, too_long)
        with pytest.raises(BadRequest, match="Message text is empty"):
            await bot.send_message(USER, " \n ")

    with_bot(telegram_standin, scenario)
    assert len(telegram_standin.sent_messages(USER)) == 3


def test_callback_data_is_limited_to_64_bytes(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_chat(USER)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER, "ok", reply_markup=keyboard("é" * 32))  # 64 bytes
        with pytest.raises(BadRequest, match="Button_data_invalid"):
            await bot.send_message(USER, "no", reply_markup=keyboard("é" * 32 + "a"))  # 65
        url_button = InlineKeyboardButton("Open", url="not a url")
        with pytest.raises(BadRequest, match="is invalid"):
            await bot.send_message(USER, "no", reply_markup=InlineKeyboardMarkup([[url_button]]))

    with_bot(telegram_standin, scenario)
    assert telegram_standin.sent_messages(USER)[0]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Press",
        "callback_data": "é" * 32,
    }


def test_chats_replies_and_blocking(telegram_standin: TelegramStandin) -> None:
    first = telegram_standin.add_user_message(USER, USER, "question")["message"]

    async def scenario(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "hello")
        reply = await bot.send_message(
            USER, "answer", reply_parameters=ReplyParameters(first["message_id"])
        )
        assert reply.reply_to_message.text == "question"
        with pytest.raises(BadRequest, match="Message to be replied not found"):
            await bot.send_message(USER, "x", reply_parameters=ReplyParameters(77))
        await bot.send_chat_action(USER, "typing")
        telegram_standin.set_blocked(USER)
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(USER, "hello")

    with_bot(telegram_standin, scenario)
    assert telegram_standin.chat_actions() == [{"chat_id": USER, "action": "typing"}]


# -- updates ---------------------------------------------------------------------------------


def test_long_poll_returns_queued_message_and_honours_offset(
    telegram_standin: TelegramStandin,
) -> None:
    async def scenario(bot: Bot) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, telegram_standin.add_user_message, USER, USER, "/start")
        started = time.monotonic()
        updates = await bot.get_updates(timeout=5)
        assert time.monotonic() - started < 2, "the long poll must return as soon as queued"
        assert [u.message.text for u in updates] == ["/start"]
        entity = updates[0].message.entities[0]
        assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 6)
        again = await bot.get_updates(timeout=0)  # not confirmed yet: delivered again
        assert [u.update_id for u in again] == [updates[0].update_id]
        assert await bot.get_updates(offset=updates[0].update_id + 1, timeout=0) == ()
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
        assert time.monotonic() - started >= 0.9

    with_bot(telegram_standin, scenario)
    assert telegram_standin.pending_updates() == []
    assert telegram_standin.errors() == []


def test_a_second_poller_terminates_the_first(telegram_standin: TelegramStandin) -> None:
    async def scenario(bot: Bot) -> None:
        first = asyncio.create_task(bot.get_updates(timeout=3))
        await asyncio.sleep(0.3)
        async with Bot(
            telegram_standin.token, base_url=f"{telegram_standin.base_url}/bot"
        ) as other:
            assert await other.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await first

    with_bot(telegram_standin, scenario)


def test_group_privacy_mode_and_mentions(telegram_standin: TelegramStandin) -> None:
    group = -100123
    kwargs: dict[str, Any] = {"chat_type": "supergroup", "chat_title": "News"}
    telegram_standin.add_user_message(group, USER, "chatter", **kwargs)
    command = telegram_standin.add_user_message(group, USER, "/ask@citebot_test_bot x", **kwargs)
    mention = telegram_standin.add_user_message(group, USER, "hey @citebot_test_bot", **kwargs)
    assert [u["update_id"] for u in telegram_standin.pending_updates()] == [
        command["update_id"],
        mention["update_id"],
    ]
    assert telegram_standin.suppressed_updates()[0]["message"]["text"] == "chatter"
    assert command["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    assert mention["message"]["entities"] == [{"type": "mention", "offset": 4, "length": 17}]
    assert command["message"]["chat"] == {"id": group, "type": "supergroup", "title": "News"}


RETRY_AFTER_IS_INT_DEPRECATED = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


@RETRY_AFTER_IS_INT_DEPRECATED
def test_injected_429_is_raised_as_retry_after(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_chat(USER)
    telegram_standin.inject_error("sendMessage", error_code=429, retry_after=3)

    async def scenario(bot: Bot) -> None:
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(USER, "first try")
        assert raised.value.retry_after in (3, dtm.timedelta(seconds=3))
        await bot.send_message(USER, "second try")

    with_bot(telegram_standin, scenario)
    [error] = telegram_standin.errors(include_injected=True)
    assert error.status == 429
    assert error.response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert telegram_standin.errors() == []
    assert [m["text"] for m in telegram_standin.messages_in_chat(USER)] == ["second try"]


@RETRY_AFTER_IS_INT_DEPRECATED
def test_rate_limit_answers_429_with_real_retry_after(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_chat(USER)
    telegram_standin.set_rate_limit(2, 60)

    async def scenario(bot: Bot) -> None:
        await bot.send_message(USER, "1")
        await bot.send_message(USER, "2")
        with pytest.raises(RetryAfter) as raised:
            await bot.send_message(USER, "3")
        assert raised.value.retry_after in (60, dtm.timedelta(seconds=60))

    with_bot(telegram_standin, scenario)


def test_edit_message_text_changes_state(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_chat(USER)

    async def scenario(bot: Bot) -> None:
        sent = await bot.send_message(USER, "Searching…", reply_markup=keyboard("stop"))
        edited = await bot.edit_message_text(
            "<b>Done</b>", USER, sent.message_id, parse_mode="HTML"
        )
        assert edited.text == "Done" and edited.edit_date is not None
        with pytest.raises(BadRequest, match="Message is not modified"):
            await bot.edit_message_text("<b>Done</b>", USER, sent.message_id, parse_mode="HTML")
        with pytest.raises(BadRequest, match="Message to edit not found"):
            await bot.edit_message_text("x", USER, 999)
        with pytest.raises(BadRequest, match="Message_too_long"):
            await bot.edit_message_text("a" * 4097, USER, sent.message_id)
        assert await bot.delete_message(USER, sent.message_id) is True

    with_bot(telegram_standin, scenario)
    edit = telegram_standin.calls_to("editMessageText")[0].result
    assert "reply_markup" not in edit, "an edit without reply_markup drops the keyboard"
    assert edit["entities"] == [{"type": "bold", "offset": 0, "length": 4}]
    assert telegram_standin.messages_in_chat(USER) == []
    assert telegram_standin.sent_messages(USER)[0]["text"] == "Searching…"


def test_callback_query_is_delivered_and_answered_once(telegram_standin: TelegramStandin) -> None:
    telegram_standin.add_chat(USER)

    async def scenario(bot: Bot) -> None:
        sent = await bot.send_message(USER, "Pick", reply_markup=keyboard("more:1"))
        telegram_standin.add_callback_query(USER, USER, sent.message_id, "more:1")
        [update] = await bot.get_updates(timeout=1)
        query = update.callback_query
        assert (query.data, query.message.message_id) == ("more:1", sent.message_id)
        with pytest.raises(BadRequest, match="Message_too_long"):
            await bot.answer_callback_query(query.id, text="x" * 201)
        assert await bot.answer_callback_query(query.id, text="Loading")
        with pytest.raises(BadRequest, match="Query is too old"):
            await bot.answer_callback_query(query.id)

    with_bot(telegram_standin, scenario)
    assert telegram_standin.callback_answers()[0]["text"] == "Loading"
    with pytest.raises(ValueError, match="no button"):
        telegram_standin.add_callback_query(USER, USER, 1, "missing")


def test_commands_and_webhook_settings(telegram_standin: TelegramStandin) -> None:
    async def scenario(bot: Bot) -> None:
        await bot.set_my_commands([("ask", "Ask about the news"), ("help", "How to use me")])
        assert [c.command for c in await bot.get_my_commands()] == ["ask", "help"]
        with pytest.raises(BadRequest, match="Bot_command_invalid"):
            await bot.set_my_commands([("Bad-Name", "x")])
        with pytest.raises(BadRequest, match=r"(?i)https url must be provided"):
            await bot.set_webhook("http://example.com/hook")
        await bot.set_webhook("https://example.com/hook", secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url == "https://example.com/hook"
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()

    with_bot(telegram_standin, scenario)
    assert telegram_standin.commands()[1] == {"command": "help", "description": "How to use me"}
    assert telegram_standin.webhook is None


# -- webhooks --------------------------------------------------------------------------------


@pytest.fixture
def webhook_receiver() -> Iterator[tuple[str, list[tuple[dict[str, Any], str | None]]]]:
    """A tiny HTTP endpoint recording the updates POSTed to it."""
    received: list[tuple[dict[str, Any], str | None]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers["X-Telegram-Bot-Api-Secret-Token"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()
    thread.join()


def test_webhook_receives_updates_with_secret(
    telegram_standin: TelegramStandin,
    webhook_receiver: tuple[str, list[tuple[dict[str, Any], str | None]]],
) -> None:
    url, received = webhook_receiver
    with_bot(telegram_standin, lambda bot: bot.set_webhook(url, secret_token="tok_1"))
    assert telegram_standin.webhook["secret_token"] == "tok_1"
    update = telegram_standin.add_user_message(USER, USER, "via webhook")
    telegram_standin.wait_for(lambda: received, timeout=5, what="a webhook POST")
    assert received[0] == (update, "tok_1")
    telegram_standin.wait_for(lambda: not telegram_standin.pending_updates(), timeout=5)
    manual = {"update_id": 1, "message": update["message"]}
    assert telegram_standin.post_update_to_webhook(None, manual) == 200
    assert received[1] == (manual, "tok_1")


# -- the full PTB application ----------------------------------------------------------------


def test_application_answers_start_end_to_end(telegram_standin: TelegramStandin) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.effective_message.reply_html(
            "<b>Hi!</b> Ask me about the news.", reply_markup=keyboard("help")
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text("Help text")

    async def main() -> None:
        app = Application.builder().token(telegram_standin.token)
        app = app.base_url(f"{telegram_standin.base_url}/bot").build()
        app.add_handler(CommandHandler("start", start))
        app.add_handler(CallbackQueryHandler(pressed))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            telegram_standin.add_user_message(USER, USER, "/start")
            reply = await asyncio.to_thread(telegram_standin.wait_for_message, USER, timeout=5)
            mark = telegram_standin.mark()
            telegram_standin.add_callback_query(USER, USER, reply["message_id"], "help")
            edited = await asyncio.to_thread(
                telegram_standin.wait_for_message, USER, timeout=5, since=mark
            )
            await app.updater.stop()
            await app.stop()
        assert reply["text"] == "Hi! Ask me about the news."
        assert reply["entities"] == [{"type": "bold", "offset": 0, "length": 3}]
        assert edited["text"] == "Help text"

    asyncio.run(main())
    assert telegram_standin.errors() == []
    assert [m["text"] for m in telegram_standin.messages_in_chat(USER)] == ["/start", "Help text"]
    assert telegram_standin.pending_updates() == []
