import type { System } from '../errors.js';

/**
 * The platform-neutral message model. Workers and the dispatcher build these; each chat
 * (shell, Discord) renders them in one place.
 */
export type MessageKind = 'plan' | 'decision' | 'result' | 'report' | 'refusal' | 'error' | 'info' | 'help' | 'dm' | 'alert';

/** Where a plan stands, as renderers pick colours and marks from it (never from text). */
export type PlanState = 'pending' | 'applying' | 'applied' | 'failed' | 'refused' | 'rejected' | 'expired';

export interface Button {
  /** The custom id sent back on a click: "approve:<plan>:<hash prefix>". */
  id: string;
  label: string;
  style: 'primary' | 'secondary' | 'success' | 'danger';
  disabled?: boolean;
  /** For a button that starts a command: the command as typed, so a text chat can show it. */
  command?: string;
}

export interface Table {
  columns: string[];
  rows: string[][];
  /** Columns a narrow terminal may leave out first (then from the right); `--json` keeps them all. */
  dropOrder?: string[];
}

export interface FileRef {
  name: string;
  /** Where the shell wrote it (shell only). */
  path?: string;
  contentType?: string;
  size?: number;
}

export interface OutMessage {
  kind: MessageKind;
  /** Headline, one line. */
  text: string;
  /** Further lines of prose. */
  lines?: string[];
  fields?: { name: string; value: string }[];
  planId?: string;
  /** Unified diff (plain, no colour). */
  diff?: string;
  table?: Table;
  buttons?: Button[];
  /** Plans: their state, and the one line that says it (the "Status" field shows the same line). */
  planStatus?: { state: PlanState; line?: string };
  result?: { status: 'applied' | 'failed' | 'refused' | 'rejected' | 'expired' | 'approved'; detail?: string };
  files?: FileRef[];
  /** Users to mention (platform ids). */
  mentions?: string[];
  /** Log reference of a fault. */
  ref?: string;
  /** The outside system a fault came from (Redis, Kubernetes, …), set from the error's type. */
  system?: System;
  /** Only the person addressed should see it (Discord ephemeral). */
  private?: boolean;
}

/** Where a conversation lives, so a worker can post into it later. */
export type ConversationRef = { platform: 'shell'; channel: string } | { platform: 'discord'; guildId: string; channelId: string };

export interface MessageRef {
  conversation: ConversationRef;
  messageId: string;
}
