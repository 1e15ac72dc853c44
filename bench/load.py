"""Load-test Peerdesk under gunicorn on loopback with wrk, on data made by generate.py.

Usage:
    .venv/bin/python bench/load.py --name 10k [--duration 15] [--connections 4] [--port 8765]

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


def worker_rss_mb(master: subprocess.Popen) -> list[float]:
    """Resident memory of each gunicorn worker (children of the master), in MiB."""
    out = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(master.pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(kb) / 1024 for kb in out.split()]


def check_paths(base: str, paths: list[str]) -> None:
    """Every path must answer 200 before it is load-tested (a fast 404 is not a result)."""
    for path in dict.fromkeys(paths[:20]):
        with urllib.request.urlopen(base + path, timeout=30) as response:  # noqa: S310
            if response.status != 200:
                raise RuntimeError(f"{path} answered {response.status}")


def run_wrk(base: str, paths: list[str], *, duration: int, connections: int) -> dict:
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


def measure_endpoint(base: str, paths: list[str], *, duration: int, connections: int) -> dict:
    """Check the paths answer 200, warm up for 3 s (first renders, template compilation, caches;
    discarded), then measure. Both products get the same treatment."""
    check_paths(base, paths)
    run_wrk(base, paths, duration=WARMUP_SECONDS, connections=connections)
    load_before = os.getloadavg()[0]
    stats = run_wrk(base, paths, duration=duration, connections=connections)
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


def peerdesk_endpoints(meta: dict) -> dict[str, list[str]]:
    queries = meta["queries"]
    return {
        "question list": ["/"],
        "question (30 answers)": [f"/questions/{meta['thread_30']}/"],
        "KB search page": search_paths("/kb/search/", queries),
        "search API": search_paths("/api/v1/search/", queries),
    }


def query_counts(endpoints: dict[str, list[str]]) -> dict[str, tuple[int, int]]:
    """SQL queries per page for an anonymous visitor: (first render, repeat visit)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
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


def load_peerdesk(workdir: Path, meta: dict, *, port: int, duration: int, connections: int) -> dict:
    """Serve the bench data with gunicorn and load every endpoint; returns all figures."""
    env = server_env(workdir)
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc, cold = start_gunicorn(
        gunicorn, "config.wsgi", port=port, cwd=REPO, env=env, log=workdir / "gunicorn.log"
    )
    results: dict = {"cold_start_s": cold, "endpoints": {}}
    base = f"http://127.0.0.1:{port}"
    try:
        served = 1
        for label, paths in peerdesk_endpoints(meta).items():
            stats = measure_endpoint(base, paths, duration=duration, connections=connections)
            results["endpoints"][label] = stats
            served += stats["requests"]
        # Top up to the request count the memory figure is defined at.
        deadline = time.monotonic() + 120
        while served < RSS_AFTER_REQUESTS and time.monotonic() < deadline:
            stats = run_wrk(base, ["/"], duration=5, connections=connections)
            served += stats["requests"]
        results["requests_served"] = served
        results["worker_rss_mb"] = worker_rss_mb(proc)
    finally:
        stop(proc)
    return results


def print_results(title: str, results: dict, counts: dict | None = None) -> None:
    print(f"\n== {title} ==")
    print(TABLE_HEAD)
    for label, stats in results["endpoints"].items():
        print(format_row(label, stats))
    print(f"cold start (spawn → first 200): {results['cold_start_s']:.2f} s")
    rss = ", ".join(f"{mb:.0f}" for mb in results["worker_rss_mb"])
    print(f"web worker RSS after {results['requests_served']:,} requests: {rss} MiB")
    if counts:
        print("\nSQL queries per page (anonymous; first render / repeat visit)")
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
        help="render every page (PAGE_CACHE_SECONDS=0): the cost a signed-in member pays",
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
    counts = query_counts(peerdesk_endpoints(meta))
    results = load_peerdesk(
        workdir, meta, port=args.port, duration=args.duration, connections=args.connections
    )
    results["query_counts"] = counts
    print_results(
        f"Peerdesk, {meta['threads']:,} threads, gunicorn -w 2, {args.connections} connections, "
        f"{args.duration} s per endpoint",
        results,
        counts,
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
