"""Storage: the interfaces the question path and the indexer use, and their records.

`ArticleStore` and `VectorIndex` (`interfaces`) are what a backend implements; `records`
holds what they return. The embedded backend is `sqlite_store.SQLiteStore` (articles,
passages, FTS5) with `faiss_index` (vector index files) and `embedding_cache`.
"""

from index.storage.interfaces import ArticleStore, VectorIndex
from index.storage.records import PassageRow, StoredArticle, StoredFeed

__all__ = ["ArticleStore", "PassageRow", "StoredArticle", "StoredFeed", "VectorIndex"]
