// Every chat command, one module per file. The loader in src/commands/registry.ts checks them.
import * as audit from './audit.js';
import * as expose from './expose.js';
import * as help from './help.js';
import * as routeList from './route-list.js';
import * as routeMode from './route-mode.js';
import * as unexpose from './unexpose.js';

export const commandModules: readonly Record<string, unknown>[] = [expose, unexpose, routeMode, routeList, audit, help];
