#!/usr/bin/env bash
# Start the loopback services the integration suite needs, if they are installed and not answering.
# Never silently skips: if a service cannot be reached afterwards, exit non-zero.
set -uo pipefail

wait_for() {  # name host port
  for _ in $(seq 1 60); do
    (echo > "/dev/tcp/$2/$3") 2>/dev/null && return 0
    sleep 0.5
  done
  echo "ERROR: $1 is not reachable on $2:$3" >&2
  return 1
}

up() { (echo > "/dev/tcp/$1/$2") 2>/dev/null; }

if ! up 127.0.0.1 5432 && command -v pg_ctlcluster >/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
if ! up 127.0.0.1 6379 && command -v redis-server >/dev/null; then
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/peerdesk-redis.log || true
fi
if ! up 127.0.0.1 5672 && command -v rabbitmq-server >/dev/null; then
  rabbitmq-server -detached || true
fi

status=0
wait_for PostgreSQL 127.0.0.1 5432 || status=1
wait_for Redis 127.0.0.1 6379 || status=1
wait_for RabbitMQ 127.0.0.1 5672 || status=1
exit $status
