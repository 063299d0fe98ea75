// Every chat command, one module per file. The loader in src/commands/registry.ts checks them.
import * as audit from './audit.js';
import * as certCaSync from './cert-ca-sync.js';
import * as certIssue from './cert-issue.js';
import * as certList from './cert-list.js';
import * as certRevoke from './cert-revoke.js';
import * as certSign from './cert-sign.js';
import * as derpCheck from './derp-check.js';
import * as expose from './expose.js';
import * as help from './help.js';
import * as mtlsCheck from './mtls-check.js';
import * as routeList from './route-list.js';
import * as routeMode from './route-mode.js';
import * as routeUpgrade from './route-upgrade.js';
import * as routerSync from './router-sync.js';
import * as unexpose from './unexpose.js';

export const commandModules: readonly Record<string, unknown>[] = [expose, unexpose, routeMode, routeList, routeUpgrade, audit, help, derpCheck, mtlsCheck, routerSync, certIssue, certSign, certList, certRevoke, certCaSync];
