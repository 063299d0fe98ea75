import type { StoredMessage, UserRef } from '../../harness/discord/discord-harness.js';
import type { DiscordFixture } from './discord-fixture.js';

export const EPHEMERAL = 64;

export interface PlanButton {
  custom_id: string;
  label: string;
  disabled?: boolean;
}

export function buttonsOf(m: StoredMessage): PlanButton[] {
  return m.components.flatMap((row) => (row.components as PlanButton[] | undefined) ?? []);
}

export const titleOf = (m: StoredMessage | undefined) => String(m?.embeds[0]?.title ?? '');

export interface PostedPlan {
  planId: string;
  message: StoredMessage;
  approve: string;
  reject: string;
}

/** `user` runs /expose for a Service under `host`; resolves once the plan is posted in #ops. */
export async function requestExpose(
  f: DiscordFixture,
  user: UserRef,
  o: { service: string; namespace: string; port: number; host: string; auth?: string },
): Promise<PostedPlan> {
  const handle = await f.harness.chatInput(user, 'expose', { auth: 'tailscale-only', ...o });
  await handle.firstResponse;
  await f.bot.idle();
  const reply = String(handle.originalMessage()?.content ?? '');
  const planId = /Plan (p-[a-z0-9]+) is posted/.exec(reply)?.[1];
  if (!planId) throw new Error(`no plan was posted; the requester was told: ${reply}`);
  const message = f.harness.messages('ops').find((m) => titleOf(m).startsWith(`Plan ${planId}:`));
  if (!message) throw new Error(`plan ${planId} is not in #ops`);
  const [approve, reject] = buttonsOf(message).map((b) => b.custom_id);
  return { planId, message, approve: approve!, reject: reject! };
}

/** A click Discord would deliver for a button that is not (or no longer) on the message: forged or stale. */
export async function forgedClick(f: DiscordFixture, user: UserRef, on: StoredMessage, customId: string) {
  const handle = await f.harness.sendInteraction(user, { type: 3, data: { custom_id: customId, component_type: 2 }, message: structuredClone(on) });
  await handle.firstResponse;
  await f.bot.idle();
  return handle;
}

/** What the person who clicked or typed was told privately. */
export function privateAnswer(handle: { originalMessage(): StoredMessage | undefined }): string {
  const m = handle.originalMessage();
  if (!m) return '(no answer)';
  if (!(m.flags & EPHEMERAL)) throw new Error(`the answer was public: ${m.content}`);
  return m.content;
}

/**
 * How many times the cluster was asked for namespaces or Services: what /expose and its
 * autocomplete read first. Background monitors and scans read other things and do not count.
 */
export function commandReads(f: DiscordFixture): number {
  return f.sandbox.kubernetes.requests.filter((r) => /^\/api\/v1\/namespaces$|\/services(\/|$)/.test(r.path)).length;
}
