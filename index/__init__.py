"""citebot's index: articles, passages, vectors, search and cited answers.

This package knows nothing of Telegram. `index.library.Library` is the facade the CLI and
the bot call: writes go to `index.indexer.Indexer` (store → embed → new index generation),
questions to the answer path; storage sits behind the interfaces of `index.storage`. Each
other concept lives in its own module (ingest, clean, chunk, embed, search, answer).
"""
