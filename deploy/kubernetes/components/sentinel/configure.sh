#!/bin/sh
# Writes this pod's Redis and Sentinel settings at start. The master is whoever the other
# Sentinels name; on a first start (no Sentinel answers), redis-ha-0.
set -eu
umask 077
SVC=redis-ha.labgate.svc.cluster.local
SELF="$HOSTNAME.$SVC"
MASTER=""
for i in 0 1 2; do
  [ "redis-ha-$i" = "$HOSTNAME" ] && continue
  MASTER=$(REDISCLI_AUTH="$REDIS_SENTINEL_PASSWORD" timeout 3 redis-cli -h "redis-ha-$i.$SVC" -p 26379 sentinel get-master-addr-by-name labgate 2>/dev/null | head -n 1 || true)
  [ -n "$MASTER" ] && break
done
[ -n "$MASTER" ] || MASTER="redis-ha-0.$SVC"
{
  printf 'requirepass "%s"\nmasterauth "%s"\n' "$REDIS_PASSWORD" "$REDIS_PASSWORD"
  echo "replica-announce-ip $SELF"
  [ "$MASTER" = "$SELF" ] || echo "replicaof $MASTER 6379"
} > /run/redis/auth.conf
{
  echo "port 26379"
  echo "dir /tmp"
  echo "sentinel resolve-hostnames yes"
  echo "sentinel announce-hostnames yes"
  echo "sentinel announce-ip $SELF"
  printf 'requirepass "%s"\nsentinel sentinel-pass "%s"\n' "$REDIS_SENTINEL_PASSWORD" "$REDIS_SENTINEL_PASSWORD"
  echo "sentinel monitor labgate $MASTER 6379 2"
  printf 'sentinel auth-pass labgate "%s"\n' "$REDIS_PASSWORD"
  echo "sentinel down-after-milliseconds labgate 5000"
  echo "sentinel failover-timeout labgate 30000"
} > /run/sentinel/sentinel.conf
