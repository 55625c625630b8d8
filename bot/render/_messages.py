"""The bot's fixed sentences and its short replies: hello and help, refusals, errors,
rate limits, unknown commands and usage lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.render._html import escape, shorten
from bot.small_talk import SmallTalk

NOT_INDEXED = (
    "I have no articles indexed yet, so I can't answer questions. "
    "An admin can add some with /add."
)
STORAGE_UNAVAILABLE = ("The article collection can't be reached right now (its database is "
                       "down or restarting). Please ask again in a minute.")
STORAGE_UNAVAILABLE_SHORT = "I can't reach my database right now: please try again in a minute."
SOMETHING_WENT_WRONG = "Sorry, something went wrong while handling that. Please try again."
TEXT_ONLY = "I can only read text: send me your question as a message."
QUOTE_ALREADY_SHOWN = "That quote is already in the chat, just above."
NOT_ALLOWED_SHORT = "Sorry, this bot is private."
EXAMPLE_QUESTIONS = (
    "What sales target has BMW set for Asia?",
    "Why did China close thousands of net cafes?",
    "What kind of AI chips does Huawei want to focus on?",
)


def render_start(first_name: str | None) -> str:
    hello = f"Hello, {escape(first_name)}!" if first_name else "Hello!"
    return (
        f"{hello} I answer questions about the news articles I have read, and I cite "
        "exactly where each claim comes from.\n\n"
        "Just send me a question (in a group: mention me, reply to my answer, or use /ask). "
        "Tap a numbered button under an answer to see the quote it is based on.\n\n"
        "/help lists everything I can do."
    )


def render_small_talk(kind: SmallTalk, first_name: str | None) -> str:
    """The reply to a message that only greets, thanks or acknowledges (`bot.small_talk`):
    a greeting or a question about the bot gets the /start hello (how to ask), thanks a
    you're welcome, an "ok" a nudge to ask."""
    if kind in (SmallTalk.GREETING, SmallTalk.HELP):
        return render_start(first_name)
    if kind is SmallTalk.THANKS:
        return "You're welcome! Ask me anything else about the news articles I have."
    return f"Ask me anything about the news articles I have, e.g. “{escape(EXAMPLE_QUESTIONS[1])}”"


def render_help(usages: Sequence[str], *, admin_commands: Sequence[str] = ()) -> str:
    """How to ask, example questions, then one usage line per command (`usages`, from the
    command registry); `admin_commands` (shown to admins) are named as admin-only."""
    lines = [
        "<b>Ask me about the news articles I have.</b>",
        "In a private chat, any message is a question. In a group, mention me, reply to "
        "one of my answers, or use /ask.",
        "Every answer has numbered sources [1] [2]…; tap a button (or use /source N) to see "
        "the exact quote. Reply to an answer to ask a follow-up.",
        "",
        "<b>Example questions</b>",
        *(f"• {escape(q)}" for q in EXAMPLE_QUESTIONS),
        "",
        "<b>Commands</b>",
        *(escape(usage) for usage in usages),
    ]
    if admin_commands:
        names = ", ".join(admin_commands[:-1]) + " and " + admin_commands[-1]
        lines.append(f"<i>({names} are for admins only)</i>")
    return "\n".join(lines)


def render_usage(usage: str) -> str:
    """`usage` is the command's line in the registry: "/name ARGS — what it does"."""
    return f"Usage: {escape(usage)}"


def render_unknown_command(command: str) -> str:
    return (f"I don't know the command /{escape(shorten(command, 40))}. "
            "Send /help to see what I can do, or just ask a question.")


def render_mention_hint(username: str | None) -> str:
    handle = f"@{username}" if username else "me"
    return f"Ask me something, e.g. “{escape(handle)} {escape(EXAMPLE_QUESTIONS[0])}”"


def render_slow_down(limit: int, window: float, retry_in: float) -> str:
    return (f"Slow down a little: I answer at most {limit} questions per "
            f"{window:.0f} seconds per person. Try again in {max(1, round(retry_in))} s.")


def render_truncation_note(limit: int) -> str:
    return f"Your question was very long: I used its first {limit} characters."


def render_admin_only(command: str) -> str:
    return f"Sorry, /{escape(command)} is only for the bot's admins."


def render_not_allowed(user_id: int | None, chat_id: int | None, *, private: bool) -> str:
    """The one refusal someone not on the allowlist gets (ids help the admin add them)."""
    who = (f"your user id is {user_id}" if private
           else f"this chat's id is {chat_id}, your user id is {user_id}")
    return (f"{NOT_ALLOWED_SHORT} It only answers the people and chats its admins have "
            f"allowed. To ask for access, contact its admin ({who}).")
