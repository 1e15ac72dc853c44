"""The OpenAPI schema and its documentation pages: valid, warning-free, and served offline."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

pytestmark = pytest.mark.django_db

EXTERNAL_URL = re.compile(r"""https?://[^\s"'<>]+""")


def test_the_schema_generates_without_warnings_and_validates(tmp_path):
    # --fail-on-warn raises on any warning, e.g. an unannotated view or an enum name collision.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))

    assert "/api/v1/search/" in (tmp_path / "s.yaml").read_text()


def test_the_schema_endpoint_describes_every_api_path(client):
    response = client.get(reverse("api-v1:schema"), {"format": "json"})

    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/v1/auth/token/",
        "/api/v1/areas/",
        "/api/v1/questions/",
        "/api/v1/questions/{id}/",
        "/api/v1/questions/{id}/answers/",
        "/api/v1/questions/{id}/vote/",
        "/api/v1/answers/{id}/",
        "/api/v1/answers/{id}/vote/",
        "/api/v1/answers/{id}/accept/",
        "/api/v1/answers/{id}/validate/",
        "/api/v1/validations/{id}/revoke/",
        "/api/v1/articles/",
        "/api/v1/articles/{id}/",
        "/api/v1/search/",
    ]:
        assert path in paths
    assert set(paths["/api/v1/answers/{id}/accept/"]) == {"post", "delete"}
    schemes = response.json()["components"]["securitySchemes"]
    assert {"tokenAuth", "cookieAuth"} <= set(schemes)


def test_the_swagger_page_loads_its_assets_from_our_static_files_not_a_cdn(client):
    response = client.get(reverse("api-v1:docs"))

    assert response.status_code == 200
    html = response.content.decode()
    assert EXTERNAL_URL.findall(html) == []
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in assets
    for asset in assets:
        assert finders.find(asset), f"{asset} is not a shipped static file"
