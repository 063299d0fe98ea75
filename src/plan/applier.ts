import type { Change, System } from './model.js';

/** How apply reads and changes one system's targets; one implementation per system. */
export interface SystemApplier {
  /** Live state of the change's target, in the same normalised form as the plan's before/after. */
  read(change: Change): Promise<unknown>;
  /** Makes the target equal `after` (or removes it when after is null). */
  apply(change: Change): Promise<void>;
  /** Who else wrote the target, in one line for people (e.g. the field managers of a hand-edited route). */
  whoChanged?(change: Change): Promise<string | undefined>;
}

export type Appliers = Partial<Record<System, SystemApplier>>;
