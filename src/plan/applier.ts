import type { Change, System } from './model.js';

/** How apply reads and changes one system's targets; one implementation per system. */
export interface SystemApplier {
  /** Live state of the change's target, in the same normalised form as the plan's before/after. */
  read(change: Change): Promise<unknown>;
  /** Makes the target equal `after` (or removes it when after is null). */
  apply(change: Change): Promise<void>;
}

export type Appliers = Partial<Record<System, SystemApplier>>;
