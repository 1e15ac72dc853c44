"""Measure Peerdesk against Askbot 0.13 (the peer) on the same data, machine and load, in one run.

Usage:
    .venv/bin/python bench/askbot.py [--duration 15] [--connections 4] [--prepare-only]

1. Installs ``askbot==0.13.0`` and gunicorn into their own virtualenv under /tmp/peerdesk-askbot/
   (Python 3.11; Askbot 0.13 wants Python ≥ 3.10 and Django 4.2-5.2), creates a project with
   ``askbot-setup`` (SQLite), and migrates it.
2. Generates 2,000 threads x 5 answers with generate.py (bench directory "peer"; the last thread
   has 30 answers) and loads the same threads into Askbot through its models (askbot_load.py).
3. Serves each with ``gunicorn -w 2`` on loopback in turn and runs the same wrk load against the
   question list, the 30-answer question page and search, then prints both tables and the
   Peerdesk/Askbot ratio per page.

Each step is skipped when its output already exists (delete /tmp/peerdesk-askbot to start over).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from _setup import REPO, configure

ROOT = Path(os.environ.get("ASKBOT_BENCH_DIR") or Path(tempfile.gettempdir()) / "peerdesk-askbot")
VENV = ROOT / "venv"
# Not "site": askbot-setup refuses a directory named like a Python module.
SITE = ROOT / "project"
PROJECT = "askbot_site"
ASKBOT_PYTHON = os.environ.get("ASKBOT_PYTHON") or shutil.which("python3.11") or "python3"
PEER_THREADS, PEER_ANSWERS = 2000, 5
BENCH = Path(__file__).resolve().parent

SETTINGS_TAIL = """
# --- added by Peerdesk's bench/askbot.py -------------------------------------------------
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DEBUG = False
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
"""

WSGI = """import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "askbot_site.settings")
application = get_wsgi_application()
"""


def step(label: str) -> float:
    print(f"\n-- {label}", flush=True)
    return time.perf_counter()


def done(started: float) -> None:
    print(f"   done in {time.perf_counter() - started:.1f} s", flush=True)


def manage(*args: str, env: dict | None = None, capture: bool = False) -> str:
    result = subprocess.run(
        [str(VENV / "bin" / "python"), "manage.py", *args],
        cwd=SITE,
        env={**os.environ, **(env or {})},
        capture_output=capture,
        text=True,
        check=True,
    )
    return result.stdout if capture else ""


def install_askbot() -> None:
    if (VENV / "bin" / "askbot-setup").exists():
        print("askbot virtualenv present:", VENV)
        return
    started = step(f"installing askbot==0.13.0 + gunicorn into {VENV} ({ASKBOT_PYTHON})")
    subprocess.run([ASKBOT_PYTHON, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [str(VENV / "bin" / "pip"), "install", "--quiet", "askbot==0.13.0", "gunicorn"],
        check=True,
    )
    done(started)


def create_site() -> None:
    if (SITE / "manage.py").exists():
        print("askbot project present:", SITE)
        return
    started = step("askbot-setup (SQLite) and migrate")
    subprocess.run(
        [
            str(VENV / "bin" / "askbot-setup"),
            "--root-directory",
            str(SITE),
            "--proj-name",
            PROJECT,
            "--db-engine",
            "sqlite",
            "--db-name",
            str(SITE / "askbot.sqlite3"),
            "--admin-name",
            "admin",
            "--admin-email",
            "admin@bench.example",
            "--domain-name",
            "localhost.localdomain",
            "--noinput",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    with (SITE / PROJECT / "settings.py").open("a") as settings:
        settings.write(SETTINGS_TAIL)
    (SITE / PROJECT / "wsgi.py").write_text(WSGI)
    manage("migrate", "--noinput", "-v", "0")
    # DEBUG off: django-compressor compresses from STATIC_ROOT at request time.
    manage("collectstatic", "--noinput", "-v", "0")
    done(started)


def generate_peer_data() -> Path:
    workdir = Path(
        os.environ.get("BENCH_DIR") or Path(tempfile.gettempdir()) / "peerdesk-bench-peer"
    )
    export = workdir / "threads.json"
    if export.exists() and (workdir / "meta.json").exists():
        print("peer data present:", export)
        return workdir
    started = step(f"generating {PEER_THREADS} threads x {PEER_ANSWERS} answers for both products")
    subprocess.run(
        [
            sys.executable,
            str(BENCH / "generate.py"),
            "--threads",
            str(PEER_THREADS),
            "--answers",
            str(PEER_ANSWERS),
            "--name",
            "peer",
            "--export",
            "threads.json",
        ],
        check=True,
    )
    done(started)
    return workdir


def load_askbot(workdir: Path) -> dict:
    ids_file = ROOT / "askbot-ids.json"
    if ids_file.exists():
        print("askbot data present:", ids_file)
        return json.loads(ids_file.read_text())
    started = step("loading the same threads into Askbot through its models")
    script = BENCH / "askbot_load.py"
    out = manage(
        "shell",
        "-c",
        f"exec(open({str(script)!r}).read())",
        env={"BENCH_EXPORT": str(workdir / "threads.json")},
        capture=True,
    )
    line = next(line for line in out.splitlines() if line.startswith("ASKBOT "))
    ids = json.loads(line.removeprefix("ASKBOT "))
    ids_file.write_text(json.dumps(ids))
    print(f"   Askbot loaded {len(ids['question_ids'])} threads in {ids['seconds']} s")
    done(started)
    return ids


def askbot_endpoints(meta: dict, ids: dict) -> dict[str, list[str]]:
    """Askbot's twins of Peerdesk's pages: its question list, the same 30-answer thread, its
    search (the question list narrowed by a query) and its API's question search."""
    queries = meta["queries"][:400]
    return {
        "question list": ["/questions/"],
        "question (30 answers)": [ids["urls"][str(meta["thread_30"])]],
        "KB search page": [f"/questions/query:{quote(q, safe='')}/" for q in queries],
        "search API": [f"/api/v1/questions/?query={quote(q, safe='')}" for q in queries],
    }


def bench_askbot(meta: dict, ids: dict, *, port: int, duration: int, connections: int) -> dict:
    from load import measure_endpoint, start_gunicorn, stop, worker_rss_mb

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": f"{PROJECT}.settings"}
    env.pop("DATABASE_URL", None)
    proc, cold = start_gunicorn(
        str(VENV / "bin" / "gunicorn"),
        f"{PROJECT}.wsgi",
        port=port,
        cwd=SITE,
        env=env,
        log=ROOT / "gunicorn.log",
    )
    results: dict = {"cold_start_s": cold, "endpoints": {}}
    base = f"http://127.0.0.1:{port}"
    try:
        served = 1
        for label, paths in askbot_endpoints(meta, ids).items():
            try:
                stats = measure_endpoint(base, paths, duration=duration, connections=connections)
            except Exception as exc:
                print(f"   askbot {label}: skipped ({exc})")
                continue
            results["endpoints"][label] = stats
            served += stats["requests"]
        results["requests_served"] = served
        results["worker_rss_mb"] = worker_rss_mb(proc)
    finally:
        stop(proc)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument(
        "--prepare-only", action="store_true", help="install and load, no load test"
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    ROOT.mkdir(parents=True, exist_ok=True)

    install_askbot()
    create_site()
    workdir = generate_peer_data()
    ids = load_askbot(workdir)
    if args.prepare_only:
        return

    os.environ.setdefault("BENCH_DIR", str(workdir))
    configure("peer")
    import load

    meta = json.loads((workdir / "meta.json").read_text())
    load.collectstatic(workdir)
    counts = load.query_counts(load.peerdesk_endpoints(meta))
    step("Peerdesk under load")
    ours = load.load_peerdesk(
        workdir, meta, port=args.port, duration=args.duration, connections=args.connections
    )
    step("Askbot under load")
    peer = bench_askbot(
        meta, ids, port=args.port + 1, duration=args.duration, connections=args.connections
    )

    title = (
        f"{PEER_THREADS:,} questions x {PEER_ANSWERS} answers, gunicorn -w 2, "
        f"{args.connections} connections, {args.duration} s per page"
    )
    load.print_results(f"Peerdesk, {title}", ours, counts)
    load.print_results(f"Askbot 0.13, {title}", peer)
    print("\n== Peerdesk / Askbot ==")
    print(f"{'page':<22} {'Peerdesk req/s':>15} {'Askbot req/s':>13} {'ratio':>7}")
    for label, stats in ours["endpoints"].items():
        other = peer["endpoints"].get(label)
        if other is None:
            print(f"{label:<22} {stats['rps']:>15.1f} {'n/a':>13} {'n/a':>7}")
            continue
        print(
            f"{label:<22} {stats['rps']:>15.1f} {other['rps']:>13.1f} "
            f"{stats['rps'] / other['rps']:>6.1f}x"
        )
    print(
        f"{'cold start':<22} {ours['cold_start_s']:>14.2f}s {peer['cold_start_s']:>12.2f}s "
        f"{peer['cold_start_s'] / ours['cold_start_s']:>6.1f}x faster"
    )
    if args.json:
        args.json.write_text(json.dumps({"peerdesk": ours, "askbot": peer}, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    main()
