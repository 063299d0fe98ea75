import { createHash } from 'node:crypto';
import { OpenBaoHttpError, type HandlerResult } from './http-envelope.js';
import type { OpenBaoState } from './openbao-state.js';
import { parseGoBool } from './request-fields.js';

/**
 * The `sys/` endpoints a client or an operator touches: health, seal-status and leader (no
 * token, http/sys_health.go, sys_seal.go, sys_leader.go) and the mount tables sys/mounts and
 * sys/auth (vault/logical_system.go mountInfo).
 */

export const OPENBAO_VERSION = '2.6.2';
/** version.CommitDate of the v2.6.2 release (dd9c19c). */
const COMMIT_DATE = '2026-08-18T15:43:05Z';

/** The body of sys/health (HealthResponse). */
export function healthBody(state: OpenBaoState, now: number, sealed: boolean) {
  return {
    initialized: true,
    sealed,
    standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(now / 1000),
    version: OPENBAO_VERSION,
    ...(sealed ? {} : { cluster_name: state.clusterName, cluster_id: state.clusterId }),
  };
}

/**
 * `GET|HEAD sys/health`: 200 when active; the *code query parameters choose other codes
 * (a bad one is a 400 with no body), `standbyok` must be a bool.
 */
export function health(state: OpenBaoState, now: number, query: URLSearchParams): { status: number; body?: unknown } {
  const standbyOk = query.get('standbyok');
  if (standbyOk !== null && parseGoBool(standbyOk) === undefined) return { status: 400 };
  for (const param of ['uninitcode', 'sealedcode', 'standbycode', 'activecode']) {
    const value = query.get(param);
    if (value !== null && !/^[+-]?\d+$/.test(value)) return { status: 400 };
  }
  const active = query.get('activecode');
  return { status: active === null ? 200 : Number(active), body: healthBody(state, now, false) };
}

/** `GET sys/seal-status` (CoreSealStatusResponse of an unsealed single-node server). */
export function sealStatus(state: OpenBaoState) {
  return {
    type: 'shamir',
    initialized: true,
    sealed: false,
    t: 1,
    n: 1,
    progress: 0,
    nonce: '',
    recovery_seal: false,
    version: OPENBAO_VERSION,
    commit_date: COMMIT_DATE,
    migration: false,
    cluster_name: state.clusterName,
    cluster_id: state.clusterId,
    storage_type: 'file',
  };
}

/** `GET sys/leader`: a server without HA storage. */
export const leader = () => ({ ha_enabled: false });

/** A stable random-looking id for a mount, from the cluster id (so restarts keep it). */
function stableId(state: OpenBaoState, salt: string, hexChars: number): string {
  return createHash('sha256').update(`${state.clusterId}/${salt}`).digest('hex').slice(0, hexChars);
}

function uuid(state: OpenBaoState, salt: string): string {
  const h = stableId(state, salt, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface Mount {
  path: string;
  type: string;
  description: string;
  local?: boolean;
  defaultLeaseTtl?: number;
  maxLeaseTtl?: number;
  credential?: boolean;
}

function mountInfo(state: OpenBaoState, m: Mount) {
  const config: Record<string, unknown> = { default_lease_ttl: m.defaultLeaseTtl ?? 0, max_lease_ttl: m.maxLeaseTtl ?? 0, force_no_cache: false };
  if (m.credential) config.token_type = 'default-service';
  return {
    type: m.type,
    description: m.description,
    accessor: `${m.credential ? 'auth_' : ''}${m.type}_${stableId(state, m.path, 8)}`,
    local: m.local ?? false,
    seal_wrap: false,
    external_entropy_access: false,
    options: null,
    uuid: uuid(state, m.path),
    plugin_version: '',
    running_plugin_version: `v${OPENBAO_VERSION}+builtin.bao`,
    running_sha256: '',
    deprecation_status: 'supported',
    config,
  };
}

/** `GET sys/mounts`: the secrets engines, keyed by path with a trailing slash. */
export function mounts(state: OpenBaoState): HandlerResult {
  const list: Mount[] = [
    { path: 'cubbyhole/', type: 'cubbyhole', description: 'per-token private secret storage', local: true },
    { path: 'identity/', type: 'identity', description: 'identity store' },
    { path: `${state.pki.mount}/`, type: 'pki', description: '', maxLeaseTtl: state.pki.maxLeaseTtlSeconds },
    { path: 'sys/', type: 'system', description: 'system endpoints used for control, policy and debugging' },
  ];
  return { kind: 'json', data: Object.fromEntries(list.map((m) => [m.path, mountInfo(state, m)])), injectData: true };
}

/** `GET sys/auth`: the auth methods. */
export function authMounts(state: OpenBaoState): HandlerResult {
  const list: Mount[] = [
    { path: 'approle/', type: 'approle', description: '', credential: true },
    { path: 'kubernetes/', type: 'kubernetes', description: '', credential: true },
    { path: 'token/', type: 'token', description: 'token based credentials', credential: true },
  ];
  return { kind: 'json', data: Object.fromEntries(list.map((m) => [m.path, mountInfo(state, m)])), injectData: true };
}

/** Refuses anything but GET on the non-logical sys handlers, with their empty 405. */
export function onlyGet(method: string, allowHead = false): void {
  if (method !== 'GET' && !(allowHead && method === 'HEAD')) throw new OpenBaoHttpError(405, []);
}
