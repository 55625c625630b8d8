"""The bot's update handlers: each small async function turns one kind of Telegram update
into `Library` calls (in a worker thread, so the event loop keeps serving) and replies
with what `bot.render` makes of the result.

Also here: `BotServices`, the per-application state the handlers share (library, chat log,
rate limiter, access policy, the running reindex or feed refresh), `access_gate`, which runs
before every other handler and stops updates from users and chats that are not allowed,
`ReindexJob`, which tracks a background reindex or feed refresh and edits its one progress
message, and `scheduled_refresh`, the JobQueue job that refreshes the feeds every so often.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from telegram import (
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot import render
from bot.access import AccessPolicy
from bot.chatlog import ChatLog, LoggedAnswer
from bot.config import BotConfig
from bot.ratelimit import QuestionRateLimiter, Verdict
from index.fetch import FetchError, canonical_url
from index.library import IngestReport, Library, NotIndexedError, Progress

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
TYPING_REFRESH_SECONDS = 4.5
LATEST_DEFAULT, LATEST_MAX = 10, 50
SEARCH_LIMIT = 10
# `since:2024-01-01` / `until:2024-12` at the start of a question (or in /latest's arguments).
DATE_FILTER = re.compile(r"(?i)(since|until):(\S*)")
DATE_VALUE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class DateFilterError(ValueError):
    """A since:/until: filter that is not a date; the message says which."""


@dataclass
class ReindexJob:
    """A background reindex or feed refresh (`kind`) and the message that shows its
    progress (none for a scheduled refresh: `chat_id` is None)."""

    full: bool
    chat_id: int | None
    message_id: int = 0
    kind: str = "reindex"  # or "refresh"
    feeds: int = 0  # feeds being refreshed
    started: float = field(default_factory=time.monotonic)
    articles_seen: int = 0
    progress: Progress | None = None

    @property
    def what(self) -> str:
        return "feed refresh" if self.kind == "refresh" else "reindex"

    def update(self, progress: Progress) -> None:
        """The Library's progress callback (called in the worker thread)."""
        if progress.stage == "reading":
            self.articles_seen = max(self.articles_seen, progress.articles_seen)
        self.progress = progress

    def text(self) -> str:
        if self.kind == "refresh":
            return render.render_refresh_progress(
                feeds=self.feeds, articles_seen=self.articles_seen, progress=self.progress)
        return render.render_reindex_progress(
            full=self.full, articles_seen=self.articles_seen, progress=self.progress
        )


@dataclass
class BotServices:
    """What the handlers share; kept in `application.bot_data["services"]`."""

    config: BotConfig
    library: Library
    chatlog: ChatLog
    limiter: QuestionRateLimiter
    access: AccessPolicy = field(default_factory=AccessPolicy)
    reindex: ReindexJob | None = None
    ingesting: bool = False


def services(context: Context) -> BotServices:
    return context.bot_data["services"]


# --------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------


async def send_parts(
    context: Context,
    chat_id: int,
    parts: Sequence[str],
    *,
    reply_to: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> list[Message]:
    """Send HTML messages in order; the first replies to `reply_to`, the last has `markup`."""
    sent: list[Message] = []
    for number, part in enumerate(parts):
        first, last = number == 0, number == len(parts) - 1
        sent.append(await context.bot.send_message(
            chat_id, part,
            reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True)
            if first and reply_to else None,
            reply_markup=markup if last else None,
        ))
    return sent


async def reply(update: Update, context: Context, text: str | Sequence[str]) -> list[Message]:
    """Answer the update's message with one text or several parts (HTML)."""
    message = update.effective_message
    chat = update.effective_chat
    if chat is None:
        return []
    parts = [text] if isinstance(text, str) else list(text)
    return await send_parts(context, chat.id, parts,
                            reply_to=message.message_id if message else None)


@asynccontextmanager
async def typing(context: Context, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends (refreshed every few seconds)."""

    async def show_typing() -> None:
        with suppress(TelegramError):
            await context.bot.send_chat_action(chat_id, ChatAction.TYPING)

    async def keep_typing() -> None:
        while True:
            await asyncio.sleep(TYPING_REFRESH_SECONDS)
            await show_typing()

    await show_typing()
    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


# --------------------------------------------------------------------------------------
# Reading messages
# --------------------------------------------------------------------------------------


def command_argument(message: Message) -> str:
    """The text after `/command` (newlines kept), stripped."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def command_name(message: Message) -> tuple[str, str | None]:
    """(`command`, `botname` or None) of a message starting with `/command[@botname]`."""
    first = (message.text or "").split(maxsplit=1)[0] if message.text else ""
    name, _, target = first.lstrip("/").partition("@")
    return name, target or None


def small_number(text: str, digits: int) -> int | None:
    """`text` as a number of at most `digits` ASCII digits, else None ("²" or "٣" are
    digits to `str.isdigit` but not numbers a user meant to type)."""
    return int(text) if re.fullmatch(rf"[0-9]{{1,{digits}}}", text) else None


def parse_date(value: str, name: str) -> str:
    """A since:/until: value as given (YYYY-MM-DD, YYYY-MM or YYYY), checked to be a date;
    else DateFilterError."""
    value = value.rstrip(",;")
    match = DATE_VALUE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        year, month, day = match.groups()
        date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        shown = render.shorten(value, 40) if value else " (no date given)"
        raise DateFilterError(f"I couldn't read the date in {name}{shown}.") from None
    return value


def parse_date_filters(question: str) -> tuple[str, str | None, str | None]:
    """(question, since, until) from `since:DATE` / `until:DATE` at the start of
    `question` (either, both, in any order). Raises DateFilterError."""
    since = until = None
    rest = question.strip()
    while match := DATE_FILTER.match(rest):
        name = match.group(1).lower()
        value = parse_date(match.group(2), f"{name}:")
        if name == "since":
            since = value
        else:
            until = value
        rest = rest[match.end():].lstrip()
    check_date_range(since, until)
    return rest, since, until


def check_date_range(since: str | None, until: str | None) -> None:
    if since and until and since[: len(until)] > until:
        raise DateFilterError(f"since:{since} is after until:{until}.")


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


def replied_bot_message(message: Message, bot_id: int) -> Message | None:
    """The bot's message that `message` replies to, if it replies to the bot."""
    target = message.reply_to_message
    if target is not None and target.from_user is not None and target.from_user.id == bot_id:
        return target
    return None


def mentions_bot(message: Message, username: str | None) -> bool:
    if not username:
        return False
    handle = f"@{username}".lower()
    mentions = message.parse_entities(["mention"]).values()
    return any(m.lower() == handle for m in mentions)


def without_mention(text: str, username: str | None) -> str:
    if not username:
        return text.strip()
    return re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE).strip()


def follow_up_question(previous: str, follow_up: str, limit: int) -> str:
    """The question used for retrieval when someone replies to an answer: the earlier
    question plus the follow-up (the most recent `limit` characters)."""
    combined = f"{previous.strip()} {follow_up.strip()}"
    return combined[-limit:].lstrip() if len(combined) > limit else combined


def user_key(update: Update) -> int:
    user = update.effective_user
    chat = update.effective_chat
    return user.id if user else (chat.id if chat else 0)


# --------------------------------------------------------------------------------------
# Questions
# --------------------------------------------------------------------------------------


async def answer_question(update: Update, context: Context, question: str,
                          follow_up_of: LoggedAnswer | None = None) -> None:
    """Rate-limit, ask the Library, save the answer, send it with its citation buttons."""
    svc = services(context)
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None:
        return
    try:
        question, since, until = parse_date_filters(question)
    except DateFilterError as error:
        await reply(update, context, render.render_date_usage(str(error)))
        return
    if not question:
        await reply(update, context, render.render_usage("ask"))
        return
    if not await within_rate_limit(update, context):
        return
    question, note = truncate_question(question, svc.config.max_question_chars)
    note = " ".join(n for n in (render.render_date_note(since, until), note) if n) or None
    if follow_up_of is not None:
        question = follow_up_question(follow_up_of.question, question,
                                      svc.config.max_question_chars)
    async with typing(context, chat.id):
        try:
            answer = await asyncio.to_thread(svc.library.ask, question, since=since,
                                             until=until)
        except NotIndexedError:
            await reply(update, context, render.NOT_INDEXED)
            return
    user = update.effective_user
    answer_id = svc.chatlog.record_answer(chat.id, user.id if user else None, question, answer)
    sent = await send_parts(
        context, chat.id, render.render_answer(answer, note=note),
        reply_to=message.message_id,
        markup=render.citation_keyboard(answer_id, answer.citations),
    )
    svc.chatlog.link_messages(answer_id, chat.id, [m.message_id for m in sent])


def truncate_question(question: str, limit: int) -> tuple[str, str | None]:
    """The question cut to `limit` characters, with a note when it was cut."""
    question = question.strip()
    if len(question) <= limit:
        return question, None
    return question[:limit], render.render_truncation_note(limit)


async def within_rate_limit(update: Update, context: Context) -> bool:
    """True if the user may ask now; tells them to slow down once per window otherwise."""
    limiter = services(context).limiter
    key = user_key(update)
    verdict = limiter.check(key)
    if verdict is Verdict.WARN:
        await reply(update, context, render.render_slow_down(
            limiter.limit, limiter.window, limiter.retry_in(key)))
    return verdict is Verdict.ALLOW


async def on_text(update: Update, context: Context) -> None:
    """A text message: a question in private chats; in groups only when the bot is
    mentioned or replied to (other chatter is ignored silently)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    replied = replied_bot_message(message, context.bot.id)
    username = context.bot.username
    if not is_private(update) and replied is None and not mentions_bot(message, username):
        return
    question = without_mention(message.text, username)
    if not question:
        await reply(update, context, render.render_mention_hint(username))
        return
    await answer_question(update, context, question, follow_up_of=answer_replied_to(
        update, context, replied))


def answer_replied_to(update: Update, context: Context, replied: Message | None
                      ) -> LoggedAnswer | None:
    chat = update.effective_chat
    if replied is None or chat is None:
        return None
    return services(context).chatlog.answer_for_message(chat.id, replied.message_id)


async def ask_command(update: Update, context: Context) -> None:
    """/ask QUESTION (a reply to an answer makes it a follow-up)."""
    message = update.effective_message
    if message is None:
        return
    question = without_mention(command_argument(message), context.bot.username)
    if not question:
        await reply(update, context, render.render_usage("ask"))
        return
    replied = replied_bot_message(message, context.bot.id)
    await answer_question(update, context, question,
                          follow_up_of=answer_replied_to(update, context, replied))


# --------------------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------------------


async def show_citation(update: Update, context: Context, answer_id: int, n: int,
                        reply_to: int | None) -> None:
    """Send the quote of citation `n` of answer `answer_id` in its article context."""
    svc = services(context)
    chat = update.effective_chat
    citations = svc.chatlog.citations(answer_id)
    citation = next((c for c in citations if c.n == n), None)
    if chat is None:
        return
    if citation is None:
        text = (f"That answer has sources 1–{len(citations)}." if citations
                else "That answer has no sources.")
        await send_parts(context, chat.id, [text], reply_to=reply_to)
        return
    article = await asyncio.to_thread(svc.library.article, citation.article_id)
    parts = render.render_citation(citation, article.body if article else None)
    sent = await send_parts(context, chat.id, parts, reply_to=reply_to)
    svc.chatlog.link_messages(answer_id, chat.id, [m.message_id for m in sent])


async def on_citation_button(update: Update, context: Context) -> None:
    """A tap on a `[n]` button: the quote behind that citation."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    parsed = render.parse_citation_callback(query.data)
    logged = services(context).chatlog.answer(parsed[0]) if parsed else None
    if parsed is None or logged is None or logged.chat_id != chat.id:
        await query.answer("That answer is no longer available.")
        return
    await query.answer()
    message_id = query.message.message_id if query.message else None
    await show_citation(update, context, parsed[0], parsed[1], reply_to=message_id)


async def source_command(update: Update, context: Context) -> None:
    """/source N — citation N of the replied-to answer, else of the chat's latest answer."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    number = small_number(command_argument(message).strip("[]# "), 4)
    if number is None:
        await reply(update, context, render.render_usage("source"))
        return
    replied = replied_bot_message(message, context.bot.id)
    chatlog = services(context).chatlog
    target = (answer_replied_to(update, context, replied) if replied
              else chatlog.latest_answer(chat.id))
    if target is None:
        await reply(update, context, "That message isn't one of my answers." if replied
                    else "There is no answer to look up yet: ask me a question first.")
        return
    await show_citation(update, context, target.id, number, reply_to=message.message_id)


# --------------------------------------------------------------------------------------
# Browsing
# --------------------------------------------------------------------------------------


async def start_command(update: Update, context: Context) -> None:
    user = update.effective_user
    await reply(update, context, render.render_start(user.first_name if user else None))


async def help_command(update: Update, context: Context) -> None:
    user = update.effective_user
    is_admin = services(context).config.is_admin(user.id if user else None)
    await reply(update, context, render.render_help(is_admin=is_admin))


async def search_command(update: Update, context: Context) -> None:
    """/search WORDS — matching articles with their dates."""
    message = update.effective_message
    query = command_argument(message) if message else ""
    if not query:
        await reply(update, context, render.render_usage("search"))
        return
    found = await asyncio.to_thread(services(context).library.search_articles, query,
                                    SEARCH_LIMIT)
    await reply(update, context, render.render_search_results(query, found))


async def latest_command(update: Update, context: Context) -> None:
    """/latest [N] [since:DATE] [until:DATE] — the newest articles."""
    message = update.effective_message
    argument = command_argument(message) if message else ""
    filters = {name.lower(): value for name, value in DATE_FILTER.findall(argument)}
    argument = DATE_FILTER.sub(" ", argument).strip()
    try:
        since, until = (parse_date(filters[name], f"{name}:") if name in filters else None
                        for name in ("since", "until"))
        check_date_range(since, until)
    except DateFilterError as error:
        await reply(update, context, render.render_date_usage(str(error), "latest"))
        return
    limit = small_number(argument, 3) if argument else LATEST_DEFAULT
    if limit is None or not 1 <= limit <= LATEST_MAX:
        await reply(update, context, render.render_usage("latest"))
        return
    articles = await asyncio.to_thread(services(context).library.latest, limit,
                                       since=since, until=until)
    await reply(update, context, render.render_latest(articles))


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot doesn't have: a usage hint (in groups only if addressed to us)."""
    message = update.effective_message
    if message is None:
        return
    name, target = command_name(message)
    username = (context.bot.username or "").lower()
    if target is not None and target.lower() != username:
        return  # another bot's command
    if not is_private(update) and target is None:
        return  # "/foo" in a group may be for another bot
    await reply(update, context, render.render_unknown_command(name))


async def on_other_message(update: Update, context: Context) -> None:
    """A photo, sticker, file, voice note… in a private chat: say that questions are text."""
    await reply(update, context, render.TEXT_ONLY)


# --------------------------------------------------------------------------------------
# Access
# --------------------------------------------------------------------------------------


async def access_gate(update: Update, context: Context) -> None:
    """Runs before every other handler (group -1): an update from a user or chat that is
    not allowed is stopped here. When it was meant for the bot, the sender is told once per
    window (see `bot.access`); everything else from them is ignored."""
    access = services(context).access
    if not access.restricted:
        return
    user, chat = update.effective_user, update.effective_chat
    user_id, chat_id = (user.id if user else None), (chat.id if chat else None)
    if access.allows(user_id, chat_id):
        return
    query = update.callback_query
    if addressed_to_bot(update, context) and access.should_tell(user_id, chat_id):
        logger.info("refused user %s in chat %s: not in the allowlist", user_id, chat_id)
        text = render.render_not_allowed(user_id, chat_id, private=is_private(update))
        with suppress(TelegramError):
            if query is not None:
                await query.answer(render.NOT_ALLOWED_SHORT)
            else:
                await reply(update, context, text)
    elif query is not None:
        with suppress(TelegramError):
            await query.answer()  # stops the button's spinner, says nothing
    raise ApplicationHandlerStop


def addressed_to_bot(update: Update, context: Context) -> bool:
    """Would the bot answer this update? In private chats always; in groups for a button,
    one of its commands, a mention or a reply to one of its messages."""
    if update.callback_query is not None or is_private(update):
        return True
    message = update.effective_message
    if message is None or not message.text:
        return False
    username = context.bot.username
    if message.text.startswith("/"):
        name, target = command_name(message)
        if target is not None:
            return target.lower() == (username or "").lower()
        return name.lower() in render.USAGE
    return (replied_bot_message(message, context.bot.id) is not None
            or mentions_bot(message, username))


# --------------------------------------------------------------------------------------
# Admin
# --------------------------------------------------------------------------------------


async def is_admin_or_refuse(update: Update, context: Context, command: str) -> bool:
    """True for admins; anyone else gets a polite refusal and the attempt is logged."""
    user = update.effective_user
    if services(context).config.is_admin(user.id if user else None):
        return True
    logger.warning("refused /%s from non-admin user %s (@%s)", command,
                   user.id if user else "?", user.username if user else "?")
    await reply(update, context, render.render_admin_only(command))
    return False


async def stats_command(update: Update, context: Context) -> None:
    if not await is_admin_or_refuse(update, context, "stats"):
        return
    stats = await asyncio.to_thread(services(context).library.stats)
    await reply(update, context, render.render_stats(stats))


def busy_text(svc: BotServices) -> str | None:
    """Why a reindex or ingest can't start now, or None."""
    if svc.reindex is not None:
        return render.render_busy(svc.reindex.text(), svc.reindex.what)
    if svc.ingesting or svc.library.is_busy():
        return render.render_busy(None)
    return None


@asynccontextmanager
async def exclusive_write(update: Update, context: Context,
                          svc: BotServices) -> AsyncIterator[bool]:
    """A short write (/add, /remove, following a feed): yields False, after telling the
    user why, while another write runs; else True, the write marked as running until the
    block ends (checked and marked with no await between, so nothing starts in between)."""
    if (busy := busy_text(svc)) is not None:
        await reply(update, context, busy)
        yield False
        return
    svc.ingesting = True
    try:
        yield True
    finally:
        svc.ingesting = False


async def reindex_command(update: Update, context: Context) -> None:
    """/reindex [full] (admins): runs in the background, editing one progress message."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not await is_admin_or_refuse(
            update, context, "reindex"):
        return
    argument = command_argument(message).lower()
    if argument not in ("", "full"):
        await reply(update, context, render.render_usage("reindex"))
        return
    svc = services(context)
    if (busy := busy_text(svc)) is not None:
        await reply(update, context, busy)
        return
    job = svc.reindex = ReindexJob(full=argument == "full", chat_id=chat.id)
    try:
        sent = await reply(update, context, job.text())
    except BaseException:
        svc.reindex = None
        raise
    job.message_id = sent[0].message_id
    logger.info("reindex%s started by user %s", " (full)" if job.full else "",
                update.effective_user.id if update.effective_user else "?")
    context.application.create_task(run_reindex(context, svc, job), update=update,
                                    name="citebot-reindex")


async def run_reindex(context: Context, svc: BotServices, job: ReindexJob) -> None:
    """Reindex in a worker thread, showing its progress (see `run_job`)."""
    await run_job(context, svc, job,
                  lambda: svc.library.reindex(full=job.full, progress=job.update),
                  lambda report: render.render_reindex_report(report, full=job.full))


async def run_refresh(context: Context, svc: BotServices, job: ReindexJob) -> None:
    """Refresh the feeds in a worker thread, showing its progress (see `run_job`)."""
    await run_job(context, svc, job, lambda: svc.library.refresh(progress=job.update),
                  render.render_refresh_report)


async def run_job(context: Context, svc: BotServices, job: ReindexJob,
                  work_in_thread: Callable[[], IngestReport],
                  final_text: Callable[[IngestReport], str]) -> None:
    """Run `job`'s Library work in a worker thread; edit the progress message at most once
    per interval (only when its text changed), then once more with the report. Errors are
    logged and shown, never raised: `svc.reindex` is cleared in any case."""
    work = asyncio.ensure_future(asyncio.to_thread(work_in_thread))
    shown = job.text()
    try:
        while not work.done():
            await asyncio.wait({work}, timeout=svc.config.progress_interval)
            if not work.done() and job.text() != shown:
                shown = job.text()
                await edit_quietly(context, job, shown)
        final = final_text(work.result())
        logger.info("%s finished: %s", job.what, work.result().summary())
    except Exception as error:
        logger.exception("%s failed", job.what)
        final = render.render_failure(f"{job.what.capitalize()} failed", error)
    finally:
        svc.reindex = None
    await edit_quietly(context, job, final)


async def edit_quietly(context: Context, job: ReindexJob, text: str) -> None:
    """Edit the progress message (if the job has one); a failed edit is logged, not fatal
    to the job."""
    if job.chat_id is None or not job.message_id:
        return
    try:
        await context.bot.edit_message_text(text, job.chat_id, job.message_id)
    except TelegramError as error:
        logger.warning("could not edit the %s progress message: %s", job.what, error)


def target_chat(update: Update) -> int:
    """The chat an update came from (every update a command handler sees has one)."""
    chat = update.effective_chat
    assert chat is not None
    return chat.id


async def admin_argument(update: Update, context: Context, command: str) -> str | None:
    """The argument of an admin command, or None when the user is refused (not an admin)
    or gave no argument (then the command's usage is sent)."""
    message = update.effective_message
    if message is None or not await is_admin_or_refuse(update, context, command):
        return None
    argument = command_argument(message)
    if not argument:
        await reply(update, context, render.render_usage(command))
        return None
    return argument


async def add_command(update: Update, context: Context) -> None:
    """/add PATH_OR_URL (admins): ingest a file, folder or web article and index it."""
    target = await admin_argument(update, context, "add")
    if target is None:
        return
    svc = services(context)
    if not is_web_address(target) and not svc.config.may_add_path(Path(target)):
        logger.warning("refused /add of %s: outside the folders /add may read", target)
        await reply(update, context, render.render_failure(
            f"Could not add {target}", "that path is outside the folders /add may read "
            "(CITEBOT_ADD_FOLDERS)"))
        return
    async with exclusive_write(update, context, svc) as free:
        if not free:
            return
        try:
            async with typing(context, target_chat(update)):
                report = await ingest_target(svc.library, target)
        except (FetchError, FileNotFoundError) as error:
            text = render.render_failure(f"Could not add {target}", error)
        else:
            text = render.render_ingest_report(f"Added {target}", report)
    # Replied after the write is over: a retry right after the reply is not "busy".
    await reply(update, context, text)


def is_web_address(target: str) -> bool:
    return re.match(r"(?i)https?://", target) is not None


async def ingest_target(library: Library, target: str) -> IngestReport:
    """Ingest an http(s) URL or a local path (in a worker thread)."""
    if is_web_address(target):
        return await asyncio.to_thread(library.ingest_url, target)
    path = Path(target).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no such file or folder: {target}")
    return await asyncio.to_thread(library.ingest, [path])


# --------------------------------------------------------------------------------------
# Admin: feeds, refresh, remove
# --------------------------------------------------------------------------------------


def user_label(update: Update) -> str:
    user = update.effective_user
    return str(user.id) if user else "?"


async def feeds_command(update: Update, context: Context) -> None:
    """/feeds (admins): list the followed feeds; /feeds add URL; /feeds remove URL."""
    message = update.effective_message
    if message is None or not await is_admin_or_refuse(update, context, "feeds"):
        return
    svc = services(context)
    words = command_argument(message).split()
    if not words:
        feeds = await asyncio.to_thread(svc.library.feeds)
        await reply(update, context, render.render_feeds(feeds))
        return
    action = words[0].lower()
    if len(words) != 2 or action not in ("add", "remove"):
        await reply(update, context, render.render_usage("feeds"))
        return
    url = words[1]
    if action == "add":
        await follow_feed(update, context, svc, url)
    else:
        await unfollow_feed(update, context, svc, url)


async def follow_feed(update: Update, context: Context, svc: BotServices, url: str) -> None:
    """Follow the feed at `url` (polled once by `Library.add_feed` to check it)."""
    existing = await asyncio.to_thread(svc.library.feed, url)
    if existing is not None:
        await reply(update, context, render.render_feed_added(existing, already=True))
        return
    chat = update.effective_chat
    async with exclusive_write(update, context, svc) as free:
        if not free:
            return
        try:
            async with typing(context, chat.id if chat else 0):
                feed = await asyncio.to_thread(svc.library.add_feed, url)
        except FetchError as error:
            logger.info("could not follow feed %s: %s", url, error)
            text = render.render_failure(f"Could not follow {url}", error)
        else:
            logger.info("feed %s followed by user %s", feed.url, user_label(update))
            text = render.render_feed_added(feed, already=False)
    await reply(update, context, text)


async def unfollow_feed(update: Update, context: Context, svc: BotServices, url: str) -> None:
    """Stop following the feed at `url`; its articles stay."""
    async with exclusive_write(update, context, svc) as free:
        if not free:
            return
        feed = await asyncio.to_thread(svc.library.feed, url)
        report = await asyncio.to_thread(svc.library.remove_feed, url) if feed else None
    if report is None:
        feed = None
    else:
        logger.info("feed %s unfollowed by user %s", url, user_label(update))
    await reply(update, context, render.render_feed_removed(url, feed))


async def refresh_command(update: Update, context: Context) -> None:
    """/refresh (admins): poll the feeds now, in the background, editing one progress
    message like /reindex."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or not await is_admin_or_refuse(
            update, context, "refresh"):
        return
    if command_argument(message):
        await reply(update, context, render.render_usage("refresh"))
        return
    svc = services(context)
    feeds = await asyncio.to_thread(svc.library.feeds)
    if (busy := busy_text(svc)) is not None:  # after the await: nothing may start between
        await reply(update, context, busy)
        return
    if not feeds:
        await reply(update, context, render.render_no_feeds())
        return
    job = svc.reindex = ReindexJob(full=False, chat_id=chat.id, kind="refresh",
                                   feeds=len(feeds))
    try:
        sent = await reply(update, context, job.text())
    except BaseException:
        svc.reindex = None
        raise
    job.message_id = sent[0].message_id
    logger.info("feed refresh started by user %s", user_label(update))
    context.application.create_task(run_refresh(context, svc, job), update=update,
                                    name="citebot-refresh")


async def scheduled_refresh(context: Context) -> None:
    """The JobQueue job: refresh the feeds (no progress message), unless a reindex, refresh
    or ingest is running; the report goes to the log. Never raises."""
    svc = services(context)
    try:
        feeds = await asyncio.to_thread(svc.library.feeds)
        if not feeds:
            logger.debug("scheduled feed refresh: no feeds are followed")
            return
        if busy_text(svc) is not None:
            logger.info("scheduled feed refresh skipped: %s is running",
                        f"a {svc.reindex.what}" if svc.reindex else "an ingest or removal")
            return
        job = svc.reindex = ReindexJob(full=False, chat_id=None, kind="refresh",
                                       feeds=len(feeds))
        logger.info("scheduled feed refresh of %d feeds started", len(feeds))
        await run_refresh(context, svc, job)
    except Exception:
        logger.exception("scheduled feed refresh failed")


def removal_candidates(target: str) -> list[str]:
    """The origins `/remove TARGET` tries: TARGET itself and, for a URL, its canonical form
    (the origin a fetched page is stored under)."""
    candidates = [target]
    if is_web_address(target):
        with suppress(FetchError, ValueError):
            canonical = canonical_url(target)
            if canonical not in candidates:
                candidates.append(canonical)
    return candidates


async def remove_command(update: Update, context: Context) -> None:
    """/remove ORIGIN_OR_URL (admins): delete one article with its passages and vectors."""
    target = await admin_argument(update, context, "remove")
    if target is None:
        return
    svc = services(context)
    removed = None
    async with exclusive_write(update, context, svc) as free:
        if not free:
            return
        for origin in removal_candidates(target):
            if await asyncio.to_thread(svc.library.remove, origin):
                removed = origin
                break
    if removed is not None:
        logger.info("article %s removed by user %s", removed, user_label(update))
    await reply(update, context, render.render_removed(target, removed))


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


async def on_error(update: object, context: Context) -> None:
    """Log any error (the token is redacted by the logging filter) and tell the user."""
    error = context.error
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        logger.warning("network error: %s", error)
    else:
        logger.error("error while handling an update", exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(error, Forbidden):
        return  # blocked by the user or removed from the group
    with suppress(TelegramError):
        await reply(update, context, render.SOMETHING_WENT_WRONG)
