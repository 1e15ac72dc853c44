"""Pointing this process's task publishing at another broker, or at one that hangs."""

import contextlib
import socket
import threading

import kombu.pools

from config.celery import app as celery_app


def drop_producer_pool() -> None:
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    # kombu keeps producer pools in a process-wide registry keyed by broker; drop them too, or a
    # later test reuses a pool whose connections were just force-closed.
    kombu.pools.reset()


@contextlib.contextmanager
def producer_broker(url: str):
    """Make this process publish to ``url``; a worker keeps consuming from its own broker."""
    previous = celery_app.conf.get("broker_write_url")
    drop_producer_pool()
    celery_app.conf["broker_write_url"] = url
    try:
        yield
    finally:
        drop_producer_pool()
        celery_app.conf["broker_write_url"] = previous


@contextlib.contextmanager
def hung_broker(scheme: str = "redis"):
    """A TCP port that accepts connections and never answers: a broker stuck mid-outage.
    Yields its URL for ``scheme`` ("redis" or "amqp")."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    server.settimeout(0.1)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_ignore():
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                held.append(server.accept()[0])

    thread = threading.Thread(target=accept_and_ignore, daemon=True)
    thread.start()
    try:
        port = server.getsockname()[1]
        yield (
            f"amqp://guest:guest@127.0.0.1:{port}//"
            if scheme == "amqp"
            else f"redis://127.0.0.1:{port}/0"
        )
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        server.close()
