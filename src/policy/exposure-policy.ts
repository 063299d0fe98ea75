import type { Config } from '../config/load.js';

/**
 * What may be exposed at all: checked when a plan is made (so the person hears why at once)
 * and again by the Kubernetes applier, whatever a plan says. Each refusal names the rule.
 */

const BUILT_IN_NAMESPACES: Record<string, string> = {
  'kube-system': "the cluster's own components run there",
  'kube-public': 'it is readable by everyone in the cluster and not meant for workloads',
  'kube-node-lease': "it holds the nodes' heartbeats",
};

const BUILT_IN_SERVICES: Record<string, string> = {
  'default/kubernetes': 'it is the Kubernetes API',
};

export interface PolicyDenial {
  /** The rule that refused, as written in labgate.yaml or "built-in". */
  rule: string;
  message: string;
}

const matchesNamespace = (pattern: string, ns: string) => pattern === '*' || pattern === ns;
const matchesService = (pattern: string, ns: string, name: string) => {
  if (pattern === '*') return true;
  const [pns, pname] = pattern.split('/');
  return pns === ns && (pname === '*' || pname === name);
};

export class ExposurePolicy {
  constructor(private readonly config: Pick<Config, 'exposure' | 'domain'>) {}

  private get rules() {
    return this.config.exposure;
  }

  /** May objects for an exposure live in (and route to Services of) this namespace? */
  checkNamespace(ns: string): PolicyDenial | null {
    const r = this.rules;
    const builtIn = BUILT_IN_NAMESPACES[ns];
    if (builtIn) return { rule: 'built-in', message: `namespace ${ns} may not be exposed: ${builtIn} (built-in rule)` };
    if (ns === r.labgateNamespace) return { rule: 'exposure.labgateNamespace', message: `namespace ${ns} may not be exposed: it is labgate's own namespace (exposure.labgateNamespace)` };
    if (ns === r.openbaoNamespace) return { rule: 'exposure.openbaoNamespace', message: `namespace ${ns} may not be exposed: it is OpenBao's namespace (exposure.openbaoNamespace)` };
    if (r.namespaces.deny.some((p) => matchesNamespace(p, ns))) return { rule: 'exposure.namespaces.deny', message: `namespace ${ns} may not be exposed: exposure.namespaces.deny lists it` };
    if (!r.namespaces.allow.some((p) => matchesNamespace(p, ns)))
      return { rule: 'exposure.namespaces.allow', message: `namespace ${ns} may not be exposed: exposure.namespaces.allow has only ${r.namespaces.allow.join(', ') || '(nothing)'}` };
    return null;
  }

  /** May this Service be the backend of an exposure? */
  checkService(ns: string, name: string): PolicyDenial | null {
    const ref = `${ns}/${name}`;
    const builtIn = BUILT_IN_SERVICES[ref];
    if (builtIn) return { rule: 'built-in', message: `Service ${ref} may not be exposed: ${builtIn} (built-in rule)` };
    const byNamespace = this.checkNamespace(ns);
    if (byNamespace) return byNamespace;
    const r = this.rules;
    if (r.services.deny.some((p) => matchesService(p, ns, name))) return { rule: 'exposure.services.deny', message: `Service ${ref} may not be exposed: exposure.services.deny lists it` };
    if (!r.services.allow.some((p) => matchesService(p, ns, name)))
      return { rule: 'exposure.services.allow', message: `Service ${ref} may not be exposed: exposure.services.allow has only ${r.services.allow.join(', ') || '(nothing)'}` };
    return null;
  }

  /** A host must be under `domain` or one of `exposure.extraDomains`. */
  checkHost(host: string): PolicyDenial | null {
    const domains = [this.config.domain, ...this.rules.extraDomains];
    if (domains.some((d) => host === d || host.endsWith(`.${d}`))) return null;
    return { rule: 'domain', message: `host ${host} is not under ${domains.join(' or ')} (domain, exposure.extraDomains); labgate serves only its own domains` };
  }

  /** Namespaces where exposures may be written, when the allow list names them; undefined for "*". */
  writableNamespaces(): string[] | undefined {
    const r = this.rules;
    if (r.namespaces.allow.includes('*')) return undefined;
    return r.namespaces.allow.filter((ns) => this.checkNamespace(ns) === null).sort();
  }
}
