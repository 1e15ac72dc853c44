"""The search contract, run again through ``SemanticRerankBackend`` with real vectors.

Every contract test (``test_search_contract.py``) is imported here and gets this module's
``backend``: the in-memory Whoosh backend wrapped for re-ranking, whose writes also store the
documents' embeddings (as ``search_sync`` does), so results really are re-ordered by the model.

Marked ``integration``: it re-runs ~45 tests with the model (~7 s plus its load), which the fast
suite should not pay twice; the integration run stores the vectors in PostgreSQL.
"""

import inspect

import pytest

from knowledge.models import SearchEmbedding
from knowledge.search import semantic
from knowledge.search.whoosh_backend import RamWhooshBackend
from tests.knowledge import test_search_contract as contract

pytestmark = pytest.mark.integration

# The contract's tests that take a backend (not its disk-only and PostgreSQL-only ones).
for _name, _test in vars(contract).items():
    if _name.startswith("test_") and "backend" in inspect.signature(_test).parameters:
        globals()[_name] = _test


class EmbeddingRerankBackend(semantic.SemanticRerankBackend):
    """Writes vectors where search_sync and rebuild_index would, so every hit has one."""

    def upsert(self, documents):
        documents = list(documents)
        super().upsert(documents)
        semantic.embeddings_write(documents)

    def delete(self, doc_ids):
        doc_ids = list(doc_ids)
        super().delete(doc_ids)
        semantic.embeddings_delete(doc_ids)

    def clear(self):
        super().clear()
        SearchEmbedding.objects.all().delete()

    def rebuild(self, documents, *, progress=None):
        documents = list(documents)
        count = super().rebuild(documents, progress=progress)
        semantic.embeddings_write(documents)
        return count


@pytest.fixture
def backend(db, loaded):
    instance = EmbeddingRerankBackend(RamWhooshBackend(), wait_for_model=True)
    yield instance
    instance.close()
