"""Shared bench setup: a throwaway database and index under /tmp, never the dev or test ones."""

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"


def configure(name: str) -> Path:
    """Point settings at /tmp/peerdesk-bench-<name>/ and set Django up."""
    workdir = Path(
        os.environ.get("BENCH_DIR") or Path(tempfile.gettempdir()) / f"peerdesk-bench-{name}"
    )
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["PEERDESK_VAR_DIR"] = str(workdir)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    return workdir


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)

    def pick(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99), "max": ordered[-1]}
