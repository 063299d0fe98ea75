import type { Config } from '../config/load.js';
import { UserError, UserErrorCode } from '../errors.js';
import { displayName, isManaged, kubeTarget, normalize, refOf } from '../kubernetes/objects.js';
import type { KubeObject, KubernetesPort } from '../kubernetes/port.js';
import { sameState } from '../plan/canonical.js';
import type { Change } from '../plan/model.js';
import type { ExposurePolicy } from '../policy/exposure-policy.js';
import type { AccessMode } from './access-modes.js';
import { describeExposure, groupExposures, isComplete, readManagedTraefikObjects, type LiveExposure } from './exposures.js';
import { CLIENT_CA_LABEL, HOST_ANNOTATION, TRAEFIK_API, renderClientCaSecret, renderExposure, type Exposure } from './render.js';
import { describeRoute, onEntryPoint, routeServesHost, tlsOptionOf } from './routes.js';

/** photos → photos.<domain>; a name with a dot is taken as given. */
export function qualifyHost(host: string, domain: string): string {
  return host.includes('.') ? host : `${host}.${domain}`;
}

export interface RoutingState {
  /** Every IngressRoute and IngressRouteTCP in the cluster, whoever owns it. */
  routes: KubeObject[];
  /** labgate's exposures by host. */
  exposures: Map<string, LiveExposure>;
}

/** Reads what routing decisions depend on, in parallel. */
export async function readRouting(kube: KubernetesPort): Promise<RoutingState> {
  const [http, tcp, managed] = await Promise.all([
    kube.list(TRAEFIK_API, 'IngressRoute'),
    kube.list(TRAEFIK_API, 'IngressRouteTCP'),
    readManagedTraefikObjects(kube, []),
  ]);
  managed.push(...http.filter(isManaged));
  return { routes: [...http, ...tcp], exposures: groupExposures(managed) };
}

const belongsTo = (host: string) => (r: KubeObject) => isManaged(r) && r.metadata.annotations?.[HOST_ANNOTATION] === host;

/**
 * Refuses, naming the rule, an exposure the policy does not allow: the host's domain, the
 * namespace, the Service. Checked before anything of the Service is read, so a denied namespace's
 * Service names never reach a message; only a namespace that merely is not on the allow list is
 * looked up, so that a typo still hears "not found" and the namespaces it may use.
 */
export async function checkExposureAllowed(kube: KubernetesPort, policy: ExposurePolicy, e: Pick<Exposure, 'host' | 'namespace' | 'service'>): Promise<void> {
  const denial = policy.checkHost(e.host) ?? policy.checkService(e.namespace, e.service);
  if (!denial) return;
  if (denial.rule === 'exposure.namespaces.allow' && !(await kube.get({ apiVersion: 'v1', kind: 'Namespace', name: e.namespace }))) {
    const allowed = (await kube.list('v1', 'Namespace')).map((n) => n.metadata.name).filter((ns) => !policy.checkNamespace(ns)).sort();
    throw new UserError(UserErrorCode.NotFound, `namespace ${e.namespace} not found; namespaces you may expose from: ${allowed.join(', ') || '(none)'}`);
  }
  throw new UserError(UserErrorCode.Policy, denial.message);
}

/** Modes a Service is reachable from the internet with, weakest first (tailscale-only is not on the internet). */
const INTERNET_STRENGTH: Partial<Record<AccessMode, number>> = { 'tailscale-bypass': 1, 'mtls-strict': 2 };

/**
 * A warning for the approver when this exposure would make a Service reachable from the internet
 * with weaker protection than it has now (under another host, or this host before the switch).
 */
export function downgradeWarnings(state: RoutingState, e: Exposure, previous?: AccessMode | 'unknown'): string[] {
  const strength = INTERNET_STRENGTH[e.mode];
  if (strength === undefined) return [];
  const warnings: string[] = [];
  if (previous && previous !== 'unknown' && (INTERNET_STRENGTH[previous] ?? 0) > strength)
    warnings.push(`${e.host} is ${previous} now; after this it is ${e.mode}, a weaker check for everyone on the internet`);
  for (const other of state.exposures.values()) {
    if (other.host === e.host || other.namespace !== e.namespace || other.service !== e.service || other.mode === 'unknown') continue;
    if ((INTERNET_STRENGTH[other.mode] ?? 0) > strength)
      warnings.push(`Service ${e.namespace}/${e.service} is ${other.mode} at ${other.host}; exposing it as ${e.mode} at ${e.host} lets the internet reach it with a weaker check`);
  }
  return warnings;
}

/**
 * Refuses a host another route already serves (any owner). What an earlier apply of labgate's
 * left half-way (objects, but no IngressRoute yet) does not count: /expose plans the rest from it,
 * so running the command again finishes the job. Returns those leftover objects.
 */
export function checkHostFree(state: RoutingState, host: string): KubeObject[] {
  const existing = state.exposures.get(host);
  if (existing && isComplete(existing))
    throw new UserError(UserErrorCode.Conflict, `${host} is already exposed by labgate (${describeExposure(existing)}); use /route mode to change its access or /unexpose first`);
  const other = state.routes.find((r) => routeServesHost(r, host, { exactOnly: true }));
  if (other)
    throw new UserError(
      UserErrorCode.Conflict,
      `${host} is already served by ${describeRoute(other)}${isManaged(other) ? '' : ', which labgate does not manage'}; pick another host or remove that route first`,
    );
  return existing?.objects ?? [];
}

/**
 * Traefik applies TLS options per entry point and host: if another router on the same entry
 * point serves this host with different options, Traefik silently falls back to the default
 * options, i.e. no client-certificate check. Refuse instead.
 */
export function checkMtlsConflict(state: RoutingState, host: string, entryPoint: string, tlsOption: string): void {
  const mine = belongsTo(host);
  const clash = state.routes.find(
    (r) => !mine(r) && onEntryPoint(r, entryPoint) && routeServesHost(r, host) && (r.kind === 'IngressRouteTCP' || tlsOptionOf(r) !== tlsOption),
  );
  if (clash)
    throw new UserError(
      UserErrorCode.Conflict,
      `${host} cannot be mtls-strict: ${describeRoute(clash)} also serves it on ${entryPoint} with TLS options "${tlsOptionOf(clash)}", and Traefik would then drop the client-certificate check for this host; change or remove that route first`,
    );
}

export async function checkServicePort(kube: KubernetesPort, namespace: string, service: string, port: number): Promise<void> {
  const [ns, svc] = await Promise.all([kube.get({ apiVersion: 'v1', kind: 'Namespace', name: namespace }), kube.get({ apiVersion: 'v1', kind: 'Service', namespace, name: service })]);
  if (!ns) {
    const all = (await kube.list('v1', 'Namespace')).map((n) => n.metadata.name).sort();
    throw new UserError(UserErrorCode.NotFound, `namespace ${namespace} not found; namespaces: ${all.join(', ')}`);
  }
  if (!svc) {
    const all = (await kube.list('v1', 'Service', { namespace })).map((s) => s.metadata.name).sort();
    throw new UserError(UserErrorCode.NotFound, `Service ${service} not found in namespace ${namespace}; Services there: ${all.length ? all.join(', ') : '(none)'}`);
  }
  const ports = ((svc.spec as { ports?: { port: number; name?: string; protocol?: string }[] } | undefined)?.ports ?? []);
  if (!ports.some((p) => p.port === port))
    throw new UserError(
      UserErrorCode.NotFound,
      `Service ${namespace}/${service} has no port ${port}; its ports: ${ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}${p.name ? ` (${p.name})` : ''}`).join(', ') || '(none)'}`,
    );
}

function describeObject(obj: KubeObject): string {
  const spec = obj.spec as Record<string, unknown>;
  if (obj.kind === 'IngressRoute') {
    const eps = (spec.entryPoints as string[] | undefined)?.join(',') ?? 'all entry points';
    const r = (spec.routes as { services: { name: string; port: number }[]; middlewares?: { name: string; namespace?: string }[] }[])[0]!;
    const mw = r.middlewares?.length ? ` via ${r.middlewares.map((m) => (m.namespace ? `${m.namespace}/${m.name}` : m.name)).join(', ')}` : '';
    const opts = (spec.tls as { options?: { name: string } } | undefined)?.options ? `, TLS options ${(spec.tls as { options: { name: string } }).options.name}` : '';
    return `${eps} → ${r.services[0]!.name}:${r.services[0]!.port}${mw}${opts}`;
  }
  if (obj.kind === 'TLSOption') {
    const ca = (spec.clientAuth as { secretNames?: string[] } | undefined)?.secretNames?.join(', ');
    return `client certificate required, CA from Secret ${ca}`;
  }
  if (obj.kind === 'Middleware' && spec.passTLSClientCert) return 'pass the client certificate on (to the gate and the backend)';
  if (obj.kind === 'Middleware' && spec.forwardAuth && obj.metadata.name.endsWith('-gate')) {
    const allow = obj.metadata.annotations?.['labgate.dev/allow'];
    return `labgate gate: refuses revoked and expired device certificates${allow ? `, admits only ${allow}` : ''}`;
  }
  if (obj.kind === 'Middleware' && spec.forwardAuth) return 'forward auth';
  if (obj.kind === 'Secret' && obj.metadata.labels?.[CLIENT_CA_LABEL]) return `client CA ${obj.metadata.annotations?.['labgate.dev/ca-subject'] ?? ''} from OpenBao`.trim();
  return obj.kind;
}

export function kubeChange(action: Change['action'], before: KubeObject | null, after: KubeObject | null): Change {
  const obj = (after ?? before)!;
  const ref = refOf(obj);
  const summary = `${action} ${displayName(ref)}${after ? ` (${describeObject(after)})` : ''}`;
  return { system: 'kubernetes', action, target: kubeTarget(ref), before, after, summary };
}

/**
 * The changes that turn an exposure's current objects into the desired ones. Refuses to touch
 * an object of the same name that labgate does not own or that belongs to another host.
 */
export async function exposureChanges(kube: KubernetesPort, host: string, current: KubeObject[], desired: KubeObject[]): Promise<Change[]> {
  const key = (o: KubeObject) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
  const currentByKey = new Map(current.map((o) => [key(o), o]));
  const desiredKeys = new Set(desired.map(key));
  const unknown = desired.filter((o) => !currentByKey.has(key(o)));
  const live = await Promise.all(unknown.map((o) => kube.get(refOf(o))));
  const changes: Change[] = [];
  for (const [i, obj] of unknown.entries()) {
    const found = live[i];
    if (found && !isManaged(found))
      throw new UserError(
        UserErrorCode.NotOwned,
        `${displayName(refOf(found))} already exists and is not managed by labgate (no app.kubernetes.io/managed-by: labgate label); labgate will not change it. Remove or rename it, or pick another host`,
      );
    // The client-CA Secret is shared by the namespace's mtls-strict exposures: no host of its own.
    if (found && found.metadata.annotations?.[HOST_ANNOTATION] !== host && !(obj.metadata.labels?.[CLIENT_CA_LABEL] && found.metadata.labels?.[CLIENT_CA_LABEL]))
      throw new UserError(
        UserErrorCode.Conflict,
        `${displayName(refOf(found))} already belongs to labgate's exposure of ${found.metadata.annotations?.[HOST_ANNOTATION] ?? 'another host'}; pick another host`,
      );
    if (found) currentByKey.set(key(obj), normalize(found)!);
  }
  // New objects first, then routes, then removals of routes, then of what they referenced: at
  // every step the live routes point at objects that exist, and a failure half-way still
  // serves the host (as before or as planned), never leaving it dangling.
  for (const obj of desired) {
    const before = currentByKey.get(key(obj)) ?? null;
    if (!before) changes.push(kubeChange('create', null, obj));
    else if (!sameState(before, obj)) changes.push(kubeChange('update', before, obj));
  }
  const deletes = [...currentByKey.values()].filter((o) => !desiredKeys.has(key(o)));
  for (const obj of deletes.filter((o) => o.kind === 'IngressRoute')) changes.push(kubeChange('delete', obj, null));
  for (const obj of deletes.filter((o) => o.kind !== 'IngressRoute')) changes.push(kubeChange('delete', obj, null));
  return changes;
}

/** Where the client CA of mtls-strict comes from: OpenBao's PKI (`GET <mount>/cert/ca_chain`). */
export interface ClientCaSource {
  caChain(): Promise<string[]>;
}

/**
 * Renders, and refuses what Traefik would not do as the user expects. With a client-CA
 * source, a mtls-strict exposure also gets the Secret its TLSOption reads, filled from it.
 */
export async function desiredObjects(
  kube: KubernetesPort,
  config: Config,
  state: RoutingState,
  e: Exposure,
  clientCa?: ClientCaSource,
): Promise<{ objects: KubeObject[]; notes: string[] }> {
  const cfg = config.traefik;
  const notes: string[] = [];
  if (e.mode === 'tailscale-bypass') {
    if (!cfg.forwardAuth)
      throw new UserError(UserErrorCode.InvalidInput, 'tailscale-bypass needs a forward-auth middleware: set traefik.forwardAuth {name, namespace} in labgate.yaml');
    if (cfg.forwardAuth.namespace !== e.namespace && !cfg.allowCrossNamespace)
      throw new UserError(
        UserErrorCode.InvalidInput,
        `the forward-auth middleware ${cfg.forwardAuth.namespace}/${cfg.forwardAuth.name} is in another namespace than ${e.namespace}, and traefik.allowCrossNamespace is false: Traefik would drop the route. Enable providers.kubernetesCRD.allowCrossNamespace in Traefik and set traefik.allowCrossNamespace: true`,
      );
    const mw = await kube.get({ apiVersion: TRAEFIK_API, kind: 'Middleware', namespace: cfg.forwardAuth.namespace, name: cfg.forwardAuth.name });
    if (!mw)
      throw new UserError(UserErrorCode.NotFound, `forward-auth middleware ${cfg.forwardAuth.namespace}/${cfg.forwardAuth.name} (traefik.forwardAuth) not found in the cluster`);
  }
  const objects = renderExposure(e, cfg, config.domain, config.gate);
  if (e.mode === 'mtls-strict') {
    const opt = objects.find((o) => o.kind === 'TLSOption')!;
    checkMtlsConflict(state, e.host, cfg.entryPoints.internet, `${e.namespace}/${opt.metadata.name}`);
    const ca = await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace: e.namespace, name: cfg.mtls.clientCaSecret });
    if (clientCa) {
      // First, so the TLSOption never references a Secret that is not there.
      objects.unshift(renderClientCaSecret(e.namespace, cfg.mtls.clientCaSecret, await clientCa.caChain()));
      if (!ca) notes.push(`Secret ${e.namespace}/${cfg.mtls.clientCaSecret} with the client CA does not exist yet: this plan creates it from OpenBao's device CA (issuer ${config.openbao?.deviceIssuer ?? 'devices'})`);
    } else if (!ca)
      notes.push(
        `Secret ${e.namespace}/${cfg.mtls.clientCaSecret} with the client CA does not exist yet: until it does, Traefik rejects every client certificate for ${e.host}`,
      );
  }
  return { objects, notes };
}

