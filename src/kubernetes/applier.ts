import { AdapterError, UserError, UserErrorCode, KubernetesError } from '../errors.js';
import type { ApplyContext, SystemApplier } from '../plan/applier.js';
import type { Change } from '../plan/model.js';
import type { ExposurePolicy } from '../policy/exposure-policy.js';
import { CLIENT_CA_LABEL, TRAEFIK_API } from '../traefik/render.js';
import { displayName, isManaged, kubeTarget, normalize, PLAN_ANNOTATION, refOf } from './objects.js';
import { FIELD_MANAGER } from './client-node-adapter.js';
import { describeForeignManagers } from './field-managers.js';
import type { KubeObject, KubernetesPort } from './port.js';

/** What labgate writes in a cluster, and nothing else. */
const WRITABLE_KINDS = new Set([`${TRAEFIK_API}/IngressRoute`, `${TRAEFIK_API}/Middleware`, `${TRAEFIK_API}/TLSOption`, 'v1/Secret']);

function objectOf(change: Change): KubeObject {
  const obj = (change.after ?? change.before) as KubeObject | null;
  if (!obj?.metadata?.name) throw new Error(`change ${change.target} carries no object`);
  return obj;
}

const refuse = (message: string) => new UserError(UserErrorCode.Policy, message);

/**
 * Applies Kubernetes changes: server-side apply for create/update, delete for delete. It checks
 * on its own, whatever the plan says (defence in depth): only labgate's kinds, only objects that
 * carry labgate's label, only in namespaces and towards Services the exposure policy allows.
 */
export class KubernetesApplier implements SystemApplier {
  constructor(
    private readonly kube: KubernetesPort,
    private readonly guard: { policy: ExposurePolicy; clientCaSecret: string },
  ) {}

  async read(change: Change): Promise<unknown> {
    return normalize(await this.kube.get(refOf(objectOf(change))));
  }

  /** The managers other than labgate that own fields of the live object (read from managedFields). */
  async whoChanged(change: Change): Promise<string | undefined> {
    return describeForeignManagers(await this.kube.get(refOf(objectOf(change))), FIELD_MANAGER);
  }

  /** Refuses a change that labgate must never make, before anything is read or written. */
  check(change: Change): void {
    const obj = objectOf(change);
    const name = displayName(refOf(obj));
    if (!WRITABLE_KINDS.has(`${obj.apiVersion}/${obj.kind}`)) throw refuse(`labgate writes only IngressRoutes, Middlewares, TLSOptions and its client-CA Secret; refused ${name}`);
    if (change.target !== kubeTarget(refOf(obj))) throw refuse(`change ${change.target} would write ${name}`);
    const ns = obj.metadata.namespace;
    if (!ns) throw refuse(`${name} has no namespace; labgate writes only namespaced objects`);
    if (obj.kind === 'Secret' && (obj.metadata.name !== this.guard.clientCaSecret || (obj.metadata.labels?.[CLIENT_CA_LABEL] !== 'true' && change.after != null)))
      throw refuse(`the only Secret labgate writes is its client-CA Secret ${this.guard.clientCaSecret}; refused ${name}`);
    if (change.after == null) return; // removing labgate's own objects is always allowed
    const after = change.after as KubeObject;
    if (!isManaged(after)) throw refuse(`${name} would be written without labgate's app.kubernetes.io/managed-by label`);
    const denial = this.guard.policy.checkNamespace(ns);
    if (denial) throw refuse(`refused to write ${name}: ${denial.message}`);
    if (obj.kind === 'IngressRoute') {
      const routes = ((after.spec as { routes?: { services?: { name?: string; namespace?: string; kind?: string }[] }[] } | undefined)?.routes ?? []);
      for (const svc of routes.flatMap((r) => r.services ?? [])) {
        if (svc.kind && svc.kind !== 'Service') throw refuse(`refused ${name}: it routes to a ${svc.kind}, not a Service`);
        const d = this.guard.policy.checkService(svc.namespace ?? ns, String(svc.name));
        if (d) throw refuse(`refused ${name}: ${d.message}`);
      }
    }
  }

  /** The plan that last wrote the target, from its annotation. */
  async writtenBy(change: Change): Promise<string | undefined> {
    return (await this.kube.get(refOf(objectOf(change))))?.metadata.annotations?.[PLAN_ANNOTATION];
  }

  async apply(change: Change, ctx?: ApplyContext): Promise<void> {
    this.check(change);
    const obj = objectOf(change);
    const live = await this.kube.get(refOf(obj));
    if (live && !isManaged(live))
      throw new UserError(UserErrorCode.NotOwned, `${displayName(refOf(obj))} exists and is not managed by labgate (no app.kubernetes.io/managed-by: labgate label); labgate will not change it`);
    if (change.after == null) {
      if (live) await this.kube.delete(refOf(obj));
      return;
    }
    const after = change.after as KubeObject;
    const stamped = ctx ? { ...after, metadata: { ...after.metadata, annotations: { ...after.metadata.annotations, [PLAN_ANNOTATION]: ctx.plan.id } } } : after;
    const written = await this.kube.apply(stamped);
    if (!written?.metadata?.name) throw new KubernetesError('apply', change.target, undefined, `Kubernetes apply ${change.target}: no object in the answer`);
  }
}
