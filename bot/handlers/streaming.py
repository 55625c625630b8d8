"""An answer that appears as the LLM reader verifies it: one message, edited as sentences come.

`StreamedAnswer.on_sentence` is handed to `Library.ask` and runs in its worker thread; it
passes each verified sentence to the event loop. The first sentence is sent as a reply; later
ones are added by editing that message, no more often than every `interval` seconds (a
"Too Many Requests, retry after N" pushes the next edit back by N). `finish` edits the
message into the final answer with its citation buttons. When no sentence came (the reader
was off, or fell back to the extractive answer), nothing was sent and the caller sends the
answer as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest, RetryAfter, TelegramError

from bot.context import CitebotContext
from bot.handlers.messaging import send_parts
from bot.render import escape

PENDING = " …"  # shown after the sentences while more may come


class StreamedAnswer:
    """One chat's answer in the making."""

    def __init__(self, context: CitebotContext, chat_id: int, reply_to: int | None,
                 interval: float = 1.5) -> None:
        self.context = context
        self.chat_id = chat_id
        self.reply_to = reply_to
        self.interval = interval
        self.sentences: list[str] = []
        self.message: Message | None = None
        self._loop = asyncio.get_running_loop()
        self._shown = ""
        self._next_edit = 0.0
        self._lock = asyncio.Lock()
        self._pending: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[None]] = set()

    @property
    def started(self) -> bool:
        return self.message is not None or bool(self.sentences)

    def on_sentence(self, sentence: str) -> None:
        """A verified sentence (called from the worker thread)."""
        future = asyncio.run_coroutine_threadsafe(self._add(sentence), self._loop)
        self._tasks.add(future)  # type: ignore[arg-type]

    async def _add(self, sentence: str) -> None:
        self.sentences.append(sentence)
        await self._show()

    async def _show(self) -> None:
        """Send or edit the message now if the interval allows, else once it does."""
        async with self._lock:
            wait = self._next_edit - time.monotonic()
            if wait > 0:
                if self._pending is None or self._pending.done():
                    self._pending = asyncio.create_task(self._show_later(wait))
                return
            text = escape(" ".join(self.sentences)) + PENDING
            if text == self._shown:
                return
            try:
                if self.message is None:
                    self.message = await self.context.bot.send_message(
                        self.chat_id, text, reply_parameters=ReplyParameters(
                            self.reply_to, allow_sending_without_reply=True)
                        if self.reply_to else None)
                else:
                    await self.message.edit_text(text)
                self._shown = text
                self._next_edit = time.monotonic() + self.interval
            except RetryAfter as error:
                self._next_edit = time.monotonic() + _seconds(error.retry_after)
                self._pending = asyncio.create_task(self._show_later(_seconds(
                    error.retry_after)))
            except TelegramError:
                self._next_edit = time.monotonic() + self.interval  # the final edit will do

    async def _show_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        await self._show()

    async def finish(self, parts: Sequence[str], markup: InlineKeyboardMarkup | None
                     ) -> list[Message]:
        """The final answer: the streamed message edited into its first part (the rest
        sent after it), the buttons on the last. Waits for the sentences still on their
        way and for the interval since the last edit."""
        for future in list(self._tasks):
            await asyncio.wrap_future(future)  # type: ignore[arg-type]
        if self._pending is not None:
            self._pending.cancel()
        async with self._lock:
            if self.message is None:
                return await send_parts(self.context, self.chat_id, parts,
                                        reply_to=self.reply_to, markup=markup)
            await asyncio.sleep(max(0.0, self._next_edit - time.monotonic()))
            first_markup = markup if len(parts) == 1 else None
            await self._final_edit(parts[0], first_markup)
            rest = await send_parts(self.context, self.chat_id, parts[1:], markup=markup) \
                if len(parts) > 1 else []
            return [self.message, *rest]

    async def _final_edit(self, text: str, markup: InlineKeyboardMarkup | None) -> None:
        assert self.message is not None
        for _attempt in range(3):
            try:
                await self.message.edit_text(text, reply_markup=markup)
                return
            except RetryAfter as error:
                await asyncio.sleep(_seconds(error.retry_after))
            except BadRequest as error:
                if "not modified" in str(error).lower():
                    return
                raise


def _seconds(retry_after: object) -> float:
    """RetryAfter.retry_after is an int or a timedelta, depending on the library's version."""
    total = getattr(retry_after, "total_seconds", None)
    return float(total()) if callable(total) else float(retry_after)  # type: ignore[arg-type]
