"""Production settings, checked the way an operator starts them: in a fresh process."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def manage(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - a fixed argv: this interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def production_env(tmp_path):
    """The variables README "Operations" lists; the database and broker need not answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PEERDESK_"))}
    return {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PEERDESK_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "example.com",
        "DATABASE_URL": "postgres://peerdesk@127.0.0.1:1/peerdesk",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "CACHE_URL": "redis://127.0.0.1:1/1",
        "PEERDESK_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }


def test_check_deploy_reports_nothing_under_production_settings(production_env):
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_keeps_database_connections_and_checks_them_before_reuse(production_env):
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        env=production_env,
    )

    assert result.returncode == 0, result.stderr
    # tests/integration/test_real_services.py shows what the check buys after a restart.
    assert result.stdout.split() == ["60", "True"]


@pytest.mark.parametrize("secret", [None, ""])
def test_production_refuses_to_start_without_a_secret_key(production_env, secret):
    if secret is None:
        del production_env["SECRET_KEY"]
    else:
        production_env["SECRET_KEY"] = secret

    result = manage("check", env=production_env)

    assert result.returncode != 0
    assert "SECRET_KEY must be set when PEERDESK_ENV=production" in result.stderr


# Compressing every static file (Swagger UI and ReDoc included) takes several seconds: it runs
# with the integration suite, which CI runs on every build.
@pytest.mark.integration
def test_collectstatic_writes_hashed_compressed_files_under_production_settings(
    production_env, tmp_path
):
    result = manage("collectstatic", "--noinput", env=production_env, timeout=300)

    assert result.returncode == 0, result.stdout + result.stderr
    static = tmp_path / "static"
    manifest = (static / "staticfiles.json").read_text()
    for name in ("css/peerdesk.css", "css/knowledge.css"):
        assert f'"{name}"' in manifest
        hashed = next(static.glob(name.replace(".css", ".*.css")))
        assert hashed.with_name(hashed.name + ".gz").exists()
