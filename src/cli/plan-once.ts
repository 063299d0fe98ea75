import { buildPorts } from '../app.js';
import { renderShellMessage } from '../chat/shell/render.js';
import { parseShellLine } from '../chat/shell/parse-line.js';
import { expandHome } from '../chat/shell/paths.js';
import { shellIdentity } from '../chat/shell/shell.js';
import { commandModules } from '../commands/index.js';
import { CommandRegistry } from '../core/command-registry.js';
import { validateOptions } from '../core/validate-options.js';
import type { Config } from '../config/load.js';
import { isUserError } from '../errors.js';
import { planDiff } from '../plan/diff.js';
import { buildPlan } from '../plan/model.js';
import { ExposurePolicy } from '../policy/exposure-policy.js';
import { SHELL_CONVERSATION } from '../messages/conversations.js';

/** `labgate plan "<command>"`: the plan against live state, printed; no queue, no change. */
export async function planOnce(config: Config, line: string, write: (s: string) => void, colour: boolean): Promise<number> {
  const commands = new CommandRegistry(commandModules);
  const parsed = parseShellLine(line, commands);
  const fail = (text: string, code: number) => {
    write(renderShellMessage({ kind: 'refusal', text }, { colour }) + '\n');
    return code;
  };
  const example = 'labgate plan "/route mode host:photos mode:mtls-strict"';
  if (parsed.kind !== 'command') return fail(parsed.kind === 'invalid' ? parsed.message : `give one slash command that changes something, e.g. ${example}`, 2);
  const cmd = commands.get(parsed.name);
  const planned = commands.all().filter((c) => c.kind === 'change').map((c) => `/${c.name}`);
  if (cmd?.kind !== 'change') return fail(cmd ? `/${parsed.name} changes nothing, so there is no plan to show; plans are made by ${planned.join(', ')}` : `unknown command /${parsed.name}`, 2);
  const requester = shellIdentity(config.shell.defaultUser ?? 'operator');
  try {
    const options = validateOptions(cmd, expandHome(parsed.options, cmd.options.shape as never));
    const draft = await cmd.plan(options, { config, ports: buildPorts(config), policy: new ExposurePolicy(config), requester, now: Date.now });
    const plan = buildPlan({ command: { name: cmd.name, options, text: parsed.text }, requester, conversation: SHELL_CONVERSATION, now: Date.now(), ttlMs: config.plans.ttl, ...draft });
    write(
      renderShellMessage(
        { kind: 'plan', text: `Plan (dry run): ${parsed.text}`, lines: [...plan.warnings.map((w) => `⚠ Warning: ${w}`), ...plan.summary.map((s) => `• ${s}`), ...plan.notes.map((n) => `Note: ${n}`)], diff: planDiff(plan.changes) || '(no changes)' },
        { colour },
      ) + '\n',
    );
    return 0;
  } catch (err) {
    if (isUserError(err)) return fail(err.message, 1);
    write(`! ${(err as Error).message}\n`);
    return 1;
  }
}
