import type { Job } from 'bullmq';
import type { Services } from './services.js';

/**
 * A job that runs on a schedule (BullMQ job scheduler): one run per interval across every
 * worker, whatever their number. A run must be idempotent; alerts it posts go through the
 * alert ledger (services.alerts). The queue runtime (src/queue/scheduled.ts) runs these.
 */
export interface ScheduledJob {
  name: string;
  /** Interval in ms, or undefined when the job does not apply to this configuration. */
  every(s: Services): number | undefined;
  run(s: Services, job: Job): Promise<unknown>;
}
