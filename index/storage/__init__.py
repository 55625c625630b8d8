"""Storage: the interfaces the question path and the indexer use, and their records.

`interfaces` says what a backend implements — the read side (`ArticleStore`,
`ArticleCatalog`, `VectorIndex`) and the write side the indexer needs (`IndexerStore`,
`IndexGenerations`); `records` holds what they return. The embedded backend is
`sqlite_store.SQLiteStore` (articles, passages, FTS5) with FAISS index files
(`faiss_index`, `generations`) and the `embedding_cache`. tests/storage_contract.py is the
test suite every backend passes.
"""

from index.storage.interfaces import (
    ArticleCatalog,
    ArticleStore,
    ArticleWriter,
    EmbeddingInputs,
    FeedLog,
    IndexerStore,
    IndexGenerations,
    IndexState,
    VectorIndex,
)
from index.storage.records import (
    IndexRecord,
    PassageRow,
    StoredArticle,
    StoredFeed,
    WrittenIndex,
)

__all__ = ["ArticleCatalog", "ArticleStore", "ArticleWriter", "EmbeddingInputs", "FeedLog",
           "IndexGenerations", "IndexRecord", "IndexState", "IndexerStore", "PassageRow",
           "StoredArticle", "StoredFeed", "VectorIndex", "WrittenIndex"]
