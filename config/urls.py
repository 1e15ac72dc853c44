from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from knowledge import health

api_v1 = [
    path("", include("community.api_urls")),
    path("", include("knowledge.api_urls")),
    path("", include("moderation.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-v1:schema"), name="docs"),
]

urlpatterns = [
    # Infrastructure probes (README "Operations"); no trailing slash, as probes are configured.
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include((api_v1, "api-v1"))),
    path("kb/", include("knowledge.urls")),
    # The CSR console lives with the knowledge pages (namespace "knowledge", under /kb/); this is
    # the short address agents type.
    path(
        "agent/",
        RedirectView.as_view(pattern_name="knowledge:agent_console", query_string=True),
        name="agent_console_short",
    ),
    path("staff/", include("moderation.urls")),
    path("flags/", include("moderation.public_urls")),
    path("notifications/", include("community.notifications.urls")),
    path("", include("community.urls")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
