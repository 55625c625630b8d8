"""The bot's update handlers, one module per feature: `asking` (questions and follow-ups),
`citations` (the quote behind a source), `browsing` (start, help, search, latest, stats),
`admin` (add, remove, feeds), `jobs` (the one `JobRunner` of reindex and feed refreshes),
`access` (the gate before every handler, and the admin check) and `errors`. `messaging`
holds what they share: reading a command and sending replies.

Each handler is a small async function taking the update and a `bot.context.CitebotContext`;
`bot.commands` says which command runs which handler.
"""
