import { AdapterError } from '../errors.js';
import type { SystemApplier } from '../plan/applier.js';
import type { Change } from '../plan/model.js';
import { FIELD_MANAGER } from './client-node-adapter.js';
import { describeForeignManagers } from './field-managers.js';
import { normalize, refOf } from './objects.js';
import type { KubeObject, KubernetesPort } from './port.js';

function objectOf(change: Change): KubeObject {
  const obj = (change.after ?? change.before) as KubeObject | null;
  if (!obj?.metadata?.name) throw new Error(`change ${change.target} carries no object`);
  return obj;
}

/** Applies Kubernetes changes: server-side apply for create/update, delete for delete. */
export class KubernetesApplier implements SystemApplier {
  constructor(private readonly kube: KubernetesPort) {}

  async read(change: Change): Promise<unknown> {
    return normalize(await this.kube.get(refOf(objectOf(change))));
  }

  /** The managers other than labgate that own fields of the live object (read from managedFields). */
  async whoChanged(change: Change): Promise<string | undefined> {
    return describeForeignManagers(await this.kube.get(refOf(objectOf(change))), FIELD_MANAGER);
  }

  async apply(change: Change): Promise<void> {
    const obj = objectOf(change);
    if (change.after == null) {
      await this.kube.delete(refOf(obj));
      return;
    }
    const live = await this.kube.apply(change.after as KubeObject);
    if (!live?.metadata?.name)
      throw new AdapterError('kubernetes', 'apply', change.target, undefined, `Kubernetes apply ${change.target}: no object in the answer`);
  }
}
