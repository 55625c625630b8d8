"""citebot's user-facing layer: the command line and the Telegram bot.

It turns commands and Telegram updates into calls of `index.library.Library` and renders
the results; all knowledge of articles, vectors and answers lives in `index/`.
"""
