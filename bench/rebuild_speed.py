"""Index rebuild throughput (documents per second) of the Whoosh backend.

Usage: .venv/bin/python bench/rebuild_speed.py [--docs 5000] [--procs 1 --procs 2]
Reuses the relevance bench's throwaway database (StackFAQ + Beer SE threads; run
bench/relevance.py once first), maps its threads to documents once, repeats them (new ids) up to
``--docs`` and times ``WhooshBackend.rebuild`` into a fresh directory under /tmp for each
process count.
"""

import argparse
import dataclasses
import shutil
import time

from _setup import configure


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=5000)
    parser.add_argument("--procs", type=int, action="append")
    args = parser.parse_args()
    workdir = configure("relevance")

    from knowledge.search.documents import iter_documents
    from knowledge.search.whoosh_backend import WhooshBackend

    base = list(iter_documents())
    if not base:
        raise SystemExit("No threads: run bench/relevance.py first to fill the bench database.")
    copies = -(-args.docs // len(base))
    docs = [dataclasses.replace(d, id=f"{d.id}-{i}") for i in range(copies) for d in base]
    docs = docs[: args.docs]
    chars = sum(len(d.title) + len(d.problem) + len(d.solution) for d in docs) // len(docs)
    print(f"{len(docs)} documents, {chars} characters each on average")
    for procs in args.procs or [1, 2]:
        path = workdir / f"rebuild-{procs}" / "index"
        shutil.rmtree(path.parent, ignore_errors=True)
        backend = WhooshBackend(str(path), procs=procs)
        started = time.perf_counter()
        backend.rebuild(docs)
        seconds = time.perf_counter() - started
        print(f"procs={procs}: {seconds:.1f} s, {len(docs) / seconds:.0f} docs/s")
        backend.close()
        shutil.rmtree(path.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
