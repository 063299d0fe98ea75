/**
 * Fault injection shared by the sandbox's loopback servers (Kubernetes API, OpenBao,
 * RouterOS). Tests add a rule; the server asks `take()` for every request it receives
 * and, when a rule matches, answers with the fault instead of the real behaviour.
 *
 * `target` is what the server matches on: "METHOD /path" for HTTP servers
 * (e.g. "PATCH /apis/traefik.io/v1alpha1/namespaces/media/ingressroutes/photos-ts"),
 * the command word for RouterOS (e.g. "/ip/firewall/nat/add"), "exec <command line>" for a
 * tailscale command run in a pod. Prefixed with "after " (e.g. "after PATCH /apis/…"), a rule
 * strikes once the request has been carried out: its change is made, its answer is lost.
 */
export interface FaultAction {
  /** HTTP status to answer with (HTTP servers). */
  status?: number;
  /** Body to answer with; servers pick a realistic default for the status when absent. */
  body?: unknown;
  /** Extra headers (HTTP servers), e.g. Retry-After. */
  headers?: Record<string, string>;
  /** RouterOS: answer `!trap` with this message (and category). */
  trap?: { message: string; category?: number };
  /** Wait this long before answering (or before applying the other action). */
  delayMs?: number;
  /** Destroy the connection instead of answering. */
  drop?: boolean;
  /** Never answer (the client's own timeout must fire). */
  hang?: boolean;
}

export interface FaultRule extends FaultAction {
  /** Regular expression (or exact string) tested against the request target. */
  match: RegExp | string;
  /** How many requests this rule answers before it is removed (default 1). */
  times?: number;
}

interface LiveRule extends FaultRule {
  remaining: number;
  hits: number;
}

export class FaultInjector {
  private rules: LiveRule[] = [];

  /** Adds a rule; returns a function that removes it. */
  add(rule: FaultRule): () => void {
    const live: LiveRule = { ...rule, remaining: rule.times ?? 1, hits: 0 };
    this.rules.push(live);
    return () => {
      this.rules = this.rules.filter((r) => r !== live);
    };
  }

  /** The fault for this request, if any rule matches; consumes one use of that rule. */
  take(target: string): FaultAction | undefined {
    const rule = this.rules.find((r) =>
      typeof r.match === 'string' ? r.match === target : r.match.test(target),
    );
    if (!rule) return undefined;
    rule.hits++;
    rule.remaining--;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    const { match: _m, times: _t, remaining: _r, hits: _h, ...action } = rule;
    return action;
  }

  clear(): void {
    this.rules = [];
  }

  /** The rules still waiting, as the control endpoint shows them. */
  list(): { match: string; remaining: number; hits: number; action: FaultAction }[] {
    return this.rules.map(({ match, times: _t, remaining, hits, ...action }) => ({ match: String(match), remaining, hits, action }));
  }

  get pending(): number {
    return this.rules.length;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Lets a request be carried out but loses its answer: whatever the handler writes, the client
 * sees the connection cut instead ("the change was made, the reply never came").
 */
export function loseAnswer(res: { writeHead: unknown; write: unknown; end: unknown; destroy(): void; socket: { destroy(): void } | null }): void {
  const cut = () => {
    res.socket?.destroy();
    return res;
  };
  res.writeHead = cut;
  res.write = () => true;
  res.end = cut;
}
