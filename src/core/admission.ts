import type { CommandModule } from './command.js';
import { metrics } from '../ops/metrics.js';
import type { Identity } from '../plan/model.js';
import { actor, type Services } from './services.js';

const ADMITTED = Symbol('admitted');

/** A command request that passed the preconditions; only `admit` makes one. */
export interface Admitted {
  readonly [ADMITTED]: true;
  cmd: CommandModule;
}

export type Admission = { ok: true; admitted: Admitted } | { ok: false; message: string; denied: boolean };

/**
 * The one precondition step every entry point passes through: the command exists and the
 * person may run it. The shell and Discord reach it through the dispatcher, a plan job (which
 * Redis could have forged or replayed) through the worker. A denial is audited here, once.
 */
export async function admit(
  s: Pick<Services, 'access' | 'audit' | 'commands' | 'logger' | 'now'>,
  req: { name: string; text: string },
  who: Identity,
  unknownHint = '/help lists what exists',
): Promise<Admission> {
  const cmd = s.commands.get(req.name);
  if (!cmd) {
    metrics.command('unknown', 'refused', 'unknown-command');
    return { ok: false, message: `unknown command /${req.name}; ${unknownHint}`, denied: false };
  }
  const denial = s.access.mayRequest(cmd.name, who);
  if (denial) {
    metrics.command(cmd.name, 'denied', denial.id);
    await s.audit
      .append({ at: s.now(), actor: actor(who), action: 'deny', command: req.text, outcome: denial.message })
      .catch((err: unknown) => s.logger.warn({ err: (err as Error).message }, 'could not audit a denial'));
    return { ok: false, message: denial.message, denied: true };
  }
  return { ok: true, admitted: { [ADMITTED]: true, cmd } };
}
