"""Where articles come from, up to the drafts the indexer stores: files of every format
(`ingest`), web pages (`fetch`, `html`), feeds (`feeds`, `feed_sync`), cleaning page furniture
away (`clean`), near-duplicates (`dedupe`), sentences and passages (`chunk`), and skipping
files that did not change (`unchanged_files`). `article` is the draft they all produce.
"""
