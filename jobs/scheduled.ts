import type { ScheduledJob } from '../src/core/scheduled-job.js';
import { certExpiryScan } from './cert-expiry-scan.js';
import { derpMonitor } from './derp-monitor.js';

/** Every scheduled job kind (monitors, scans). Each decides from the configuration whether it runs. */
export const scheduledJobs: ScheduledJob[] = [derpMonitor, certExpiryScan];
