#!/bin/sh
# Writes this pod's Redis and Sentinel settings at start. The master is whoever the other
# Sentinels name; on a first start (no Sentinel answers), redis-ha-0.
set -eu
umask 077
SVC=${REDIS_HA_SERVICE:-redis-ha.labgate.svc.cluster.local}
REDIS_RUN=${REDIS_RUN:-/run/redis}
SENTINEL_RUN=${SENTINEL_RUN:-/run/sentinel}
SELF="$HOSTNAME.$SVC"
# A value inside double quotes in a Redis config file: backslashes and quotes escaped.
quoted() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
PASS=$(quoted "$REDIS_PASSWORD")
SPASS=$(quoted "$REDIS_SENTINEL_PASSWORD")
MASTER=""
for i in 0 1 2; do
  [ "redis-ha-$i" = "$HOSTNAME" ] && continue
  MASTER=$(REDISCLI_AUTH="$REDIS_SENTINEL_PASSWORD" timeout 3 redis-cli -h "redis-ha-$i.$SVC" -p 26379 sentinel get-master-addr-by-name labgate 2>/dev/null | head -n 1 || true)
  [ -n "$MASTER" ] && break
done
[ -n "$MASTER" ] || MASTER="redis-ha-0.$SVC"
{
  printf 'requirepass %s\nmasterauth %s\n' "$PASS" "$PASS"
  echo "replica-announce-ip $SELF"
  [ "$MASTER" = "$SELF" ] || echo "replicaof $MASTER 6379"
} > "$REDIS_RUN/auth.conf"
{
  echo "port 26379"
  echo "dir /tmp"
  echo "sentinel resolve-hostnames yes"
  echo "sentinel announce-hostnames yes"
  echo "sentinel announce-ip $SELF"
  printf 'requirepass %s\nsentinel sentinel-pass %s\n' "$SPASS" "$SPASS"
  echo "sentinel monitor labgate $MASTER 6379 2"
  printf 'sentinel auth-pass labgate %s\n' "$PASS"
  echo "sentinel down-after-milliseconds labgate 5000"
  echo "sentinel failover-timeout labgate 30000"
} > "$SENTINEL_RUN/sentinel.conf"
