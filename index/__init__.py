"""citebot's index: articles, passages, vectors, search and cited answers.

This package knows nothing of Telegram. `index.library.Library` is the facade the CLI and
the bot call; each concept lives in its own module (ingest, clean, chunk, embed, store,
vectors, search, answer).
"""
