import type { z } from 'zod';
import type { Config } from '../config/load.js';
import type { KubernetesPort } from '../kubernetes/port.js';
import type { OutMessage } from '../messages/message.js';
import type { Change, CommandRequest, Identity } from '../plan/model.js';

export type { CommandRequest } from '../plan/model.js';
import type { AuditLog } from '../stores/audit.js';
import type { RouterPort } from '../router/port.js';
import type { TailscalePort } from '../tailscale/port.js';
import type { OpenBaoPort } from '../openbao/port.js';
import type { Button } from '../messages/message.js';
import type { ExposurePolicy } from '../policy/exposure-policy.js';

/** Where a CSR attached to /cert sign comes from: a Discord attachment URL, or a file in the shell (src/chat/csr-attachments.ts). */
export interface CsrSource {
  /** The attachment's text. Throws an Error whose message is meant for a person. */
  read(ref: string, from: Identity): Promise<string>;
}

/** Every outside system, each behind its port. Later systems are optional until configured. */
export interface Ports {
  kubernetes: KubernetesPort;
  /** The MikroTik router (RouterOS API); absent when ROUTEROS_HOST is not set. */
  router?: RouterPort;
  /** Each node's tailscaled, asked through pod exec. */
  tailscale?: TailscalePort;
  /** OpenBao's PKI (device certificates, the client CA); absent when no openbao block or BAO_ADDR. */
  openbao?: OpenBaoPort;
  /** Reads the CSR attached to /cert sign (Discord attachment, shell file). */
  csr?: CsrSource;
}

export interface CommandContext {
  config: Config;
  ports: Ports;
  /** What may be exposed at all (labgate.yaml exposure). */
  policy: ExposurePolicy;
  requester: Identity;
  now: () => number;
  /** Tells the person waiting which step slow work is on ("asking 50 nodes: 12 done"); shown in a terminal only. */
  progress?: (step: string) => void;
  /** A button that starts a command as whoever clicks it ("Fix: /router sync"); absent where buttons cannot be made. */
  suggest?: (label: string, command: CommandRequest) => Promise<Button>;
  /** Tells every `labgate gate` of a revocation at once (Redis pub/sub `<prefix>:gate:revoked`). */
  pushRevocation?: (serial: string, revokedAt: number) => Promise<void>;
}

/** What a change command's planner returns: the changes and how to explain them. */
export interface PlanDraft {
  summary: string[];
  changes: Change[];
  notes?: string[];
  /** Shown above everything else: what the approver must not miss (a downgrade of a Service's protection). */
  warnings?: string[];
  /**
   * Set when the configuration lets this plan go ahead without an approver (self-service
   * certificates for one's own device): why, for the plan message and the audit.
   */
  autoApprove?: { reason: string };
}

/** Autocomplete sources a chat may offer for an option (filled from live state). */
export type AutocompleteSource = 'namespaces' | 'services' | 'service-ports' | 'managed-hosts' | 'traefik-nodes';

interface CommandBase<S extends z.ZodObject> {
  /** "expose", or "route mode" for a subcommand. */
  name: string;
  description: string;
  options: S;
  /** Examples for /help and the README. */
  examples: readonly string[];
}

/** Plans a change for approval (runs in a worker). */
export interface ChangeCommand<S extends z.ZodObject = z.ZodObject> extends CommandBase<S> {
  kind: 'change';
  plan(opts: z.output<S>, ctx: CommandContext): Promise<PlanDraft>;
}

/** Reads live state and reports (runs in a worker, which holds the credentials). */
export interface ReadCommand<S extends z.ZodObject = z.ZodObject> extends CommandBase<S> {
  kind: 'read';
  report(opts: z.output<S>, ctx: CommandContext): Promise<OutMessage>;
}

/** Answers in the chat process from configuration and the audit alone. */
export interface LocalCommand<S extends z.ZodObject = z.ZodObject> extends CommandBase<S> {
  kind: 'local';
  answer(opts: z.output<S>, ctx: LocalContext): Promise<OutMessage>;
}

/** A command: the union on `kind` says which handler it has, so no caller needs a `!`. */
export type CommandModule<S extends z.ZodObject = z.ZodObject> = ChangeCommand<S> | ReadCommand<S> | LocalCommand<S>;

/**
 * Declares a command (a module's exports, or an object literal), checked at compile time: a
 * `change` command must have plan(), a `read` one report(), a `local` one answer().
 */
export function defineCommand<S extends z.ZodObject>(m: CommandModule<S>): CommandModule {
  return m as unknown as CommandModule;
}
/** What a local command (answered in the chat process, no job) may use. */
export interface LocalContext {
  config: Config;
  requester: Identity;
  audit: AuditLog;
  commands: readonly CommandModule[];
  /** Whether the requester may run a command (for /help to show only what they can use). */
  mayRequest: (command: string) => boolean;
}
