import type { Change, Plan, System } from './model.js';

/** What an applier may know of the plan a change belongs to (a signed plan, verified). */
export interface ApplyContext {
  plan: Plan;
}

/** How apply reads and changes one system's targets; one implementation per system. */
export interface SystemApplier {
  /** Live state of the change's target, in the same normalised form as the plan's before/after. */
  read(change: Change): Promise<unknown>;
  /** Makes the target equal `after` (or removes it when after is null). */
  apply(change: Change, ctx?: ApplyContext): Promise<void>;
  /** The id of the plan that last wrote the target, where the system can carry it (a Kubernetes annotation). */
  writtenBy?(change: Change): Promise<string | undefined>;
  /** Refuses a change this applier must never make, before any lock is taken or anything read. */
  check?(change: Change, ctx?: ApplyContext): void;
  /** Who else wrote the target, in one line for people (e.g. the field managers of a hand-edited route). */
  whoChanged?(change: Change): Promise<string | undefined>;
}

export type Appliers = Partial<Record<System, SystemApplier>>;
