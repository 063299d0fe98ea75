import { clip as clipTo } from '../messages/text.js';
import type { z } from 'zod';
import { optionMeta } from './command-options.js';
import type { CommandRegistry } from './command-registry.js';
import type { AutocompleteSource, Ports } from './command.js';
import { DNS1035_LABEL_RE, DNS_LABEL_RE } from '../config/validators.js';
import type { Logger } from '../log.js';
import type { Identity } from '../plan/model.js';
import { readTraefikNodes, type DaemonSetRef } from '../tailscale/traefik-nodes.js';
import { groupExposures, readManagedTraefikObjects } from '../traefik/exposures.js';
import type { AccessPolicy } from './access.js';

// Discord takes at most 100 characters for command choice names.
const clip = (s: string) => clipTo(s, 100);

/** One offered value: what the person sees, and what the option gets. */
export interface Suggestion {
  name: string;
  value: string | number;
}

export interface SuggestRequest {
  /** "expose", "route mode". */
  command: string;
  /** The option being typed into. */
  option: string;
  /** What has been typed so far. */
  typed: string;
  /** The other options as filled in so far (the namespace narrows Services, the Service its ports). */
  options: Record<string, unknown>;
  who: Identity;
}

/** Chats show at most this many (Discord's limit). */
export const MAX_SUGGESTIONS = 25;

const lower = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : '');

/** Case-insensitive match on name or value: prefix matches first, then the rest, each in the source's order. */
function rank(all: Suggestion[], typed: string): Suggestion[] {
  const t = typed.trim().toLowerCase();
  const scored = all
    .map((s) => {
      const hay = `${String(s.value)} ${s.name}`.toLowerCase();
      const score = !t ? 1 : String(s.value).toLowerCase().startsWith(t) ? 0 : hay.includes(t) ? 1 : -1;
      return { s, score };
    })
    .filter((x) => x.score >= 0);
  scored.sort((a, b) => a.score - b.score);
  return scored.slice(0, MAX_SUGGESTIONS).map((x) => x.s);
}

const byName = (a: Suggestion, b: Suggestion) => a.name.localeCompare(b.name);

/**
 * Offers live values from the cluster while someone types a command: namespaces, Services
 * (narrowed by the namespace option), ports of the chosen Service, hosts labgate manages.
 * Nothing at all for a person who may not request the command, so cluster names do not leak.
 */
export class Autocompleter {
  constructor(
    private readonly deps: {
      commands: CommandRegistry;
      access: AccessPolicy;
      ports: Ports;
      logger?: Logger;
      /** The DaemonSet running Traefik with its Tailscale container (tailscale.daemonSet), for /derp-check node:. */
      daemonSet?: DaemonSetRef;
    },
  ) {}

  private sourceOf(command: string, option: string): AutocompleteSource | undefined {
    const cmd = this.deps.commands.get(command);
    const schema = cmd ? (cmd.options.shape as Record<string, z.ZodType>)[option] : undefined;
    return schema ? optionMeta(schema)?.meta.autocomplete : undefined;
  }

  async suggest(req: SuggestRequest): Promise<Suggestion[]> {
    if (this.deps.access.mayRequest(req.command, req.who)) return [];
    const source = this.sourceOf(req.command, req.option);
    if (!source) return [];
    try {
      return rank(await this.candidates(source, req.options), req.typed);
    } catch (err) {
      // Autocomplete is a convenience: the command itself reports a cluster problem properly.
      this.deps.logger?.warn({ err: (err as Error).message, source }, 'autocomplete could not read the cluster');
      return [];
    }
  }

  private async candidates(source: AutocompleteSource, options: Record<string, unknown>): Promise<Suggestion[]> {
    const kube = this.deps.ports.kubernetes;
    // Only well-formed names reach the API: what is typed is not validated yet.
    const namespace = DNS_LABEL_RE.test(lower(options.namespace)) ? lower(options.namespace) : undefined;
    const service = DNS1035_LABEL_RE.test(lower(options.service)) ? lower(options.service) : undefined;
    switch (source) {
      case 'namespaces':
        return (await kube.list('v1', 'Namespace')).map((n) => ({ name: n.metadata.name, value: n.metadata.name })).sort(byName);
      case 'services': {
        const services = await kube.list('v1', 'Service', namespace ? { namespace } : {});
        return services.map((s) => ({ name: namespace ? s.metadata.name : clip(`${s.metadata.name} (${s.metadata.namespace})`), value: s.metadata.name })).sort(byName);
      }
      case 'service-ports': {
        if (!namespace || !service) return [];
        const svc = await kube.get({ apiVersion: 'v1', kind: 'Service', namespace, name: service });
        const ports = ((svc?.spec as { ports?: { port: number; name?: string; protocol?: string }[] } | undefined)?.ports ?? []);
        // In the Service's own order: the first port is usually the one meant.
        return ports.map((p) => ({ name: clip(`${p.port}${p.name ? ` (${p.name}, ${p.protocol ?? 'TCP'})` : ` (${p.protocol ?? 'TCP'})`}`), value: p.port }));
      }
      case 'managed-hosts': {
        const exposures = groupExposures(await readManagedTraefikObjects(kube));
        return [...exposures.values()].map((e) => ({ name: clip(`${e.host} (${e.mode})`), value: e.host })).sort(byName);
      }
      case 'traefik-nodes': {
        if (!this.deps.daemonSet) return [];
        const nodes = await readTraefikNodes(kube, this.deps.daemonSet);
        return nodes.map((n) => ({ name: clip(n.ip ? `${n.name} (${n.ip})` : n.name), value: n.name })).sort(byName);
      }
    }
  }
}
