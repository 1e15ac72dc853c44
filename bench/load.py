"""Load-test Peerdesk under gunicorn on loopback with wrk, on data made by generate.py.

Usage:
    .venv/bin/python bench/load.py --name 10k [--duration 15] [--connections 4] [--port 8765]
    .venv/bin/python bench/load.py --name 10k --signed-in   # as a signed-in member (session cookie)

Starts ``gunicorn config.wsgi -w 2`` (DEBUG off) against the bench database and index, measures
cold start (spawn → first 200), prints SQL query counts per page (in-process, through Django's
test client), runs wrk for a fixed duration per endpoint (question list, the 30-answer question
page, the KB search page and the search API, queries rotated by a Lua script), then the RSS of
each web worker once at least 10,000 requests have been served. Only 127.0.0.1 is ever targeted;
every loop is bounded in time.
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
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote_plus

from _setup import REPO, configure

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_rotate.lua"
RSS_AFTER_REQUESTS = 10_000
WARMUP_SECONDS = 3


# --- helpers shared with askbot.py ------------------------------------------------------------


def wait_for_200(url: str, *, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> float:
    """Poll ``url`` until it answers 200; return seconds waited. Raises on timeout or exit."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
                if response.status == 200:
                    return time.perf_counter() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f} s")


def start_gunicorn(
    gunicorn: str, app: str, *, port: int, cwd: Path, env: dict, log: Path, workers: int = 2
) -> tuple[subprocess.Popen, float]:
    """Spawn gunicorn on 127.0.0.1 and return (process, cold start seconds to the first 200)."""
    cmd = [gunicorn, app, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--timeout", "60"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for_200(f"http://127.0.0.1:{port}/", proc=proc)
    except Exception:
        stop(proc)
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    return proc, time.perf_counter() - started


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def worker_rss_mb(master: subprocess.Popen) -> list[tuple[float, float]]:
    """(resident, anonymous) memory of each gunicorn worker (children of the master), in MiB.

    Resident memory counts the pages of the memory-mapped search index a worker has read; those
    are the OS page cache, shared by every worker and reclaimable. Anonymous memory is the
    worker's own."""
    out = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master.pid)], capture_output=True, text=True, check=False
    ).stdout
    figures = []
    for pid in out.split():
        status = Path(f"/proc/{pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        figures.append(
            (int(fields["VmRSS"].split()[0]) / 1024, int(fields["RssAnon"].split()[0]) / 1024)
        )
    return figures


def check_paths(base: str, paths: list[str], *, headers: dict | None = None) -> None:
    """Every path must answer 200 before it is load-tested (a fast 404 is not a result)."""
    for path in dict.fromkeys(paths[:20]):
        request = urllib.request.Request(base + path, headers=headers or {})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")


def run_wrk(
    base: str,
    paths: list[str],
    *,
    duration: int,
    connections: int,
    headers: dict | None = None,
) -> dict:
    """wrk with ``connections`` connections for ``duration`` seconds, rotating ``paths``."""
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(paths) + "\n")
        paths_file = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                str(min(2, connections)),
                "-c",
                str(connections),
                "-d",
                f"{duration}s",
                "--timeout",
                "10s",
                *(
                    arg
                    for name, value in (headers or {}).items()
                    for arg in ("-H", f"{name}: {value}")
                ),
                "-s",
                str(WRK_SCRIPT),
                base,
                "--",
                paths_file,
            ],
            capture_output=True,
            text=True,
            timeout=duration + 60,
            check=True,
        ).stdout
    finally:
        os.unlink(paths_file)
    line = next(line for line in out.splitlines() if line.startswith("WRKJSON "))
    stats = json.loads(line.removeprefix("WRKJSON "))
    stats["rps"] = stats["requests"] / (stats["duration_us"] / 1e6)
    stats["errors"] = sum(
        stats[k]
        for k in ("status_errors", "connect_errors", "read_errors", "write_errors", "timeouts")
    )
    return stats


def measure_endpoint(
    base: str, paths: list[str], *, duration: int, connections: int, headers: dict | None = None
) -> dict:
    """Check the paths answer 200, warm up for 3 s (first renders, template compilation, caches;
    discarded), then measure. Both products get the same treatment."""
    check_paths(base, paths, headers=headers)
    run_wrk(base, paths, duration=WARMUP_SECONDS, connections=connections, headers=headers)
    load_before = os.getloadavg()[0]
    stats = run_wrk(base, paths, duration=duration, connections=connections, headers=headers)
    stats["loadavg_before"] = load_before
    return stats


def format_row(label: str, stats: dict) -> str:
    return (
        f"{label:<22} {stats['rps']:>9.1f} {stats['p50_us'] / 1000:>8.1f} "
        f"{stats['p95_us'] / 1000:>8.1f} {stats['p99_us'] / 1000:>8.1f} "
        f"{stats['requests']:>9d} {stats['errors']:>7d} {stats.get('loadavg_before', 0):>6.1f}"
    )


# "load" is the 1-minute load average before the run: other work on this 2-core machine skews
# every figure, so it is printed next to them.
TABLE_HEAD = (
    f"{'endpoint':<22} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
    f"{'requests':>9} {'errors':>7} {'load':>6}"
)


def search_paths(prefix: str, queries: list[str], limit: int = 400) -> list[str]:
    return [f"{prefix}?q={quote_plus(q)}" for q in queries[:limit]]


# --- Peerdesk ---------------------------------------------------------------------------------


def peerdesk_endpoints(meta: dict, only: str = "") -> dict[str, list[str]]:
    """Paths per endpoint label; ``only`` keeps the comma-separated labels it names."""
    queries = meta["queries"]
    endpoints = {
        "question list": ["/"],
        "question (30 answers)": [f"/questions/{meta['thread_30']}/"],
        "KB search page": search_paths("/kb/search/", queries),
        "search API": search_paths("/api/v1/search/", queries),
    }
    wanted = [label.strip() for label in only.split(",") if label.strip()]
    if unknown := set(wanted) - set(endpoints):
        raise SystemExit(f"unknown endpoints {sorted(unknown)}; known: {list(endpoints)}")
    return {label: paths for label, paths in endpoints.items() if not wanted or label in wanted}


def member_session(meta: dict) -> tuple[dict, object]:
    """Sign in an ordinary member (no role, no certification, not the 30-answer thread's asker)
    and return the ``Cookie`` header a browser would send (session and CSRF cookies) and that
    member. The session row lives in the bench database, so gunicorn accepts it."""
    from django.test import Client

    from community.models import Certification, Question, User

    asker_id = Question.objects.filter(pk=meta["thread_30"]).values_list("author_id", flat=True)
    member = (
        User.objects.filter(is_active=True, is_superuser=False, is_placeholder=False)
        .filter(groups__isnull=True, banned_at__isnull=True, suspended_until__isnull=True)
        .exclude(pk__in=Certification.objects.values("user_id"))
        .exclude(pk__in=asker_id)
        .order_by("pk")
        .first()
    )
    if member is None:
        raise SystemExit("no ordinary member in the bench database to sign in as")
    client = Client()
    client.force_login(member)
    client.get("/")  # sets the CSRF cookie a browser would carry on later requests
    cookie = "; ".join(
        f"{name}={morsel.value}" for name, morsel in client.cookies.items() if morsel.value
    )
    return {"Cookie": cookie}, member


def query_counts(
    endpoints: dict[str, list[str]], *, headers: dict | None = None
) -> dict[str, tuple[int, int]]:
    """SQL queries per page: (first render, repeat visit), for an anonymous visitor or, with a
    ``Cookie`` header, for the member it signs in."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(headers=headers or {})
    counts = {}
    for label, paths in endpoints.items():
        per_visit = []
        for _ in range(2):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(paths[0])
            assert response.status_code == 200, (paths[0], response.status_code)
            per_visit.append(len(ctx.captured_queries))
        counts[label] = (per_visit[0], per_visit[1])
    return counts


def server_env(workdir: Path) -> dict:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "PEERDESK_VAR_DIR": str(workdir),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    }
    env.setdefault("DATABASE_URL", f"sqlite:///{workdir / 'bench.sqlite3'}")
    return env


def collectstatic(workdir: Path) -> None:
    """Bring the bench database up to the code's migrations (the data may predate an index) and
    collect static files: DEBUG off serves hashed names from the manifest collectstatic writes."""
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command, "-v", "0"],
            cwd=REPO,
            env=server_env(workdir),
            check=False,
        )
        if done.returncode:
            raise SystemExit(
                f"manage.py {command[0]} failed on {workdir}: if the migrations were rewritten "
                "since the data was generated, run bench/generate.py again for this --name."
            )


def load_peerdesk(
    workdir: Path,
    meta: dict,
    *,
    port: int,
    duration: int,
    connections: int,
    headers: dict | None = None,
    endpoints: dict[str, list[str]] | None = None,
) -> dict:
    """Serve the bench data with gunicorn and load every endpoint (with ``headers``, e.g. a
    member's session cookie, on every request); returns all figures."""
    env = server_env(workdir)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc, cold = start_gunicorn(
        gunicorn, "config.wsgi", port=port, cwd=REPO, env=env, log=workdir / "gunicorn.log"
    )
    results: dict = {"cold_start_s": cold, "endpoints": {}}
    base = f"http://127.0.0.1:{port}"
    try:
        served = 1
        for label, paths in (endpoints or peerdesk_endpoints(meta)).items():
            stats = measure_endpoint(
                base, paths, duration=duration, connections=connections, headers=headers
            )
            results["endpoints"][label] = stats
            served += stats["requests"]
        # Top up to the request count the memory figure is defined at.
        deadline = time.monotonic() + 120
        while served < RSS_AFTER_REQUESTS and time.monotonic() < deadline:
            stats = run_wrk(base, ["/"], duration=5, connections=connections, headers=headers)
            served += stats["requests"]
        results["requests_served"] = served
        results["worker_rss_mb"] = worker_rss_mb(proc)
    finally:
        stop(proc)
    return results


def print_results(
    title: str, results: dict, counts: dict | None = None, *, who: str = "anonymous"
) -> None:
    print(f"\n== {title} ==")
    print(TABLE_HEAD)
    for label, stats in results["endpoints"].items():
        print(format_row(label, stats))
    print(f"cold start (spawn → first 200): {results['cold_start_s']:.2f} s")
    rss = ", ".join(f"{rss:.0f} ({anon:.0f} anonymous)" for rss, anon in results["worker_rss_mb"])
    print(f"web worker RSS after {results['requests_served']:,} requests: {rss} MiB")
    if counts:
        print(f"\nSQL queries per page ({who}; first render / repeat visit)")
        for label, (first, repeat) in counts.items():
            print(f"  {label:<22} {first:>3} / {repeat}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--name", default="10k", help="bench directory made by generate.py")
    parser.add_argument("--duration", type=int, default=15, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument(
        "--no-page-cache",
        action="store_true",
        help="render every page (PAGE_CACHE_SECONDS=0, which also recomputes the cached counts)",
    )
    parser.add_argument(
        "--signed-in",
        action="store_true",
        help="send a signed-in member's session and CSRF cookies with every request",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated endpoint labels to load (e.g. 'question list,question (30 answers)')",
    )
    args = parser.parse_args()
    if args.no_page_cache:
        os.environ["PAGE_CACHE_SECONDS"] = "0"
    workdir = configure(args.name)
    meta_file = workdir / "meta.json"
    if not meta_file.exists():
        raise SystemExit(f"{meta_file} is missing: run bench/generate.py --name {args.name} first")
    meta = json.loads(meta_file.read_text())
    collectstatic(workdir)
    headers, who = None, "anonymous"
    if args.signed_in:
        headers, member = member_session(meta)
        who = f"signed in as member {member.username}"
    endpoints = peerdesk_endpoints(meta, args.only)
    counts = query_counts(endpoints, headers=headers)
    results = load_peerdesk(
        workdir,
        meta,
        endpoints=endpoints,
        port=args.port,
        duration=args.duration,
        connections=args.connections,
        headers=headers,
    )
    results["query_counts"] = counts
    results["viewer"] = who
    print_results(
        f"Peerdesk, {meta['threads']:,} threads, gunicorn -w 2, {args.connections} connections, "
        f"{args.duration} s per endpoint, {who}",
        results,
        counts,
        who=who,
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
