// Every chat command, one module per file, declared through defineCommand (src/core/command.ts):
// its kind decides, at compile time, which handler it must export.
import { defineCommand, type CommandModule } from '../core/command.js';
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

export const commandModules: readonly CommandModule[] = [
  defineCommand(expose),
  defineCommand(unexpose),
  defineCommand(routeMode),
  defineCommand(routeList),
  defineCommand(routeUpgrade),
  defineCommand(audit),
  defineCommand(help),
  defineCommand(derpCheck),
  defineCommand(mtlsCheck),
  defineCommand(routerSync),
  defineCommand(certIssue),
  defineCommand(certSign),
  defineCommand(certList),
  defineCommand(certRevoke),
  defineCommand(certCaSync),
];
