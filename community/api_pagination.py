"""The API's page-number pagination, with totals cached like the HTML lists' (``pagecache``).

A list's total is a COUNT over every row the viewer may see: 20-35 ms per request for the
question list at 100k threads. ``CountCachingPaginator`` keeps it under the content generation,
so it is exact after any announced write and free on repeat.
"""

from rest_framework.pagination import PageNumberPagination

from .pagecache import CountCachingPaginator


class CountCachingPagination(PageNumberPagination):
    django_paginator_class = CountCachingPaginator
