"""Every knowledge read for pages and API, filtered by what the viewer may see.

One module per topic; callers import this package (``from knowledge import selectors``):
``articles`` (lists, pages, revisions and their diffs, sources, the review queue), ``thread``
(what a thread page shows beside its answers: standings, validations, promoted and covering
articles), ``search`` (searches, similar questions, the search log's gaps), ``console`` (the CSR
agent console and article usage).
"""

from .articles import (
    ReviewItem,
    ReviewSourceDiff,
    article_get,
    article_list,
    article_list_with_sources,
    article_revision_diff,
    article_revisions,
    article_sources,
    review_queue,
)
from .console import (
    CONSOLE_AUDIENCES,
    CONSOLE_MAX_PAGE_SIZE,
    CONSOLE_PAGE_SIZE,
    CONSOLE_RECENT,
    CONSOLE_RELATED_THREADS,
    TIER_LABELS,
    ConsoleResult,
    ConsoleSearch,
    RelatedThread,
    article_usage_counts,
    article_usage_recent,
    console_results_for_hits,
    console_search,
    snippet_parts,
    solution_plain_text,
)
from .search import (
    CORRECT_BELOW_HITS,
    SEARCH_GAP_DAYS,
    search_gaps,
    search_run,
    search_similar,
)
from .thread import (
    THREAD_ARTICLE_FIELDS,
    answer_get_for_standing,
    answer_standings,
    answers_for_standing,
    articles_by_answer,
    correction_get,
    standings_for_articles,
    thread_articles,
    thread_knowledge_presence,
    validation_get,
    validations_by_answer,
)

__all__ = [
    "CONSOLE_AUDIENCES",
    "CONSOLE_MAX_PAGE_SIZE",
    "CONSOLE_PAGE_SIZE",
    "CONSOLE_RECENT",
    "CONSOLE_RELATED_THREADS",
    "CORRECT_BELOW_HITS",
    "SEARCH_GAP_DAYS",
    "THREAD_ARTICLE_FIELDS",
    "TIER_LABELS",
    "ConsoleResult",
    "ConsoleSearch",
    "RelatedThread",
    "ReviewItem",
    "ReviewSourceDiff",
    "answer_get_for_standing",
    "answer_standings",
    "answers_for_standing",
    "article_get",
    "article_list",
    "article_list_with_sources",
    "article_revision_diff",
    "article_revisions",
    "article_sources",
    "article_usage_counts",
    "article_usage_recent",
    "articles_by_answer",
    "console_results_for_hits",
    "console_search",
    "correction_get",
    "review_queue",
    "search_gaps",
    "search_run",
    "search_similar",
    "snippet_parts",
    "solution_plain_text",
    "standings_for_articles",
    "thread_articles",
    "thread_knowledge_presence",
    "validation_get",
    "validations_by_answer",
]
