import type { ScheduledJob } from '../src/queue/scheduled.js';

/** Every scheduled job kind (monitors, scans). Each decides from the configuration whether it runs. */
export const scheduledJobs: ScheduledJob[] = [];
