import type { Config } from '../config/load.js';
import { isManaged, MANAGED_SELECTOR, normalize } from '../kubernetes/objects.js';
import type { KubeObject, KubernetesPort } from '../kubernetes/port.js';
import { listWhereWritable } from '../kubernetes/writable-list.js';
import { ExposurePolicy } from '../policy/exposure-policy.js';
import { sameState } from '../plan/canonical.js';
import type { Change } from '../plan/model.js';
import type { OpenBaoPort } from './port.js';
import { kubeChange, readRouting } from '../traefik/planning.js';
import { CLIENT_CA_LABEL, renderClientCaSecret } from '../traefik/render.js';

/**
 * What the client-CA Secret holds: the device issuer's own certificate, not its chain. Traefik
 * (Go) takes every certificate in the Secret as a trust anchor, so the root there would let any
 * certificate of the mount in, a server certificate included.
 */
export async function deviceClientCa(bao: OpenBaoPort, config: Pick<Config, 'openbao'>): Promise<string[]> {
  const chain = await bao.issuerChain(config.openbao?.deviceIssuer ?? 'devices');
  return chain.slice(0, 1);
}

/** The client-CA source mtls-strict plans fill their Secret from; none without OpenBao. */
export function clientCaSource(ctx: { ports: { openbao?: OpenBaoPort }; config: Pick<Config, 'openbao'> }): { caChain(): Promise<string[]> } | undefined {
  const bao = ctx.ports.openbao;
  return bao ? { caChain: () => deviceClientCa(bao, ctx.config) } : undefined;
}

export interface ClientCaDrift {
  /** Changes that bring every client-CA Secret to OpenBao's current chain (create or update). */
  changes: Change[];
  /** Secrets of that name labgate does not own: left alone, named in the plan's notes. */
  foreign: string[];
  /** Namespaces that have (or need) a client-CA Secret. */
  namespaces: string[];
}

/**
 * The client-CA Secrets labgate keeps in sync: one per namespace with a mtls-strict exposure,
 * plus any labgate already wrote. Compared with the Secret rendered from `chain`.
 */
export async function clientCaDrift(kube: KubernetesPort, config: Config, chain: string[]): Promise<ClientCaDrift> {
  const name = config.traefik.mtls.clientCaSecret;
  const [routing, labelled] = await Promise.all([readRouting(kube), listWhereWritable(kube, new ExposurePolicy(config), 'v1', 'Secret', { labelSelector: `${MANAGED_SELECTOR},${CLIENT_CA_LABEL}=true` })]);
  const namespaces = new Set<string>();
  for (const e of routing.exposures.values()) if (e.mode === 'mtls-strict') namespaces.add(e.namespace);
  for (const s of labelled) if (s.metadata.name === name && s.metadata.namespace) namespaces.add(s.metadata.namespace);
  const changes: Change[] = [];
  const foreign: string[] = [];
  for (const namespace of [...namespaces].sort()) {
    const desired = renderClientCaSecret(namespace, name, chain);
    const live: KubeObject | null = labelled.find((s) => s.metadata.namespace === namespace && s.metadata.name === name) ?? (await kube.get({ apiVersion: 'v1', kind: 'Secret', namespace, name }));
    if (live && !isManaged(live)) {
      foreign.push(`${namespace}/${name}`);
      continue;
    }
    const before = normalize(live);
    if (!before) changes.push(kubeChange('create', null, desired));
    else if (!sameState(before, desired)) changes.push(kubeChange('update', before, desired));
  }
  return { changes, foreign, namespaces: [...namespaces].sort() };
}
