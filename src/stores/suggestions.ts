import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Button } from '../messages/message.js';
import type { RedisKeys } from './redis.js';
import type { CommandRequest } from '../plan/model.js';

const KEEP_S = 7 * 24 * 3600;
const ID_RE = /^run:(s-[0-9a-f]{16})$/;

/**
 * Commands offered on a button ("Renew", "Fix with /router sync"). The button carries only an
 * id; the command is kept in Redis for a week. A click runs the command as the person who
 * clicked, through the same validation and access checks as if they had typed it.
 */
export class Suggestions {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async button(label: string, command: CommandRequest, style: Button['style'] = 'primary'): Promise<Button> {
    const id = `s-${randomBytes(8).toString('hex')}`;
    await this.redis.set(this.keys.suggestion(id), JSON.stringify(command), 'EX', KEEP_S);
    return { id: `run:${id}`, label, style, command: command.text };
  }

  async get(buttonId: string): Promise<CommandRequest | undefined> {
    const m = ID_RE.exec(buttonId);
    if (!m) return undefined;
    const raw = await this.redis.get(this.keys.suggestion(m[1]!));
    return raw ? (JSON.parse(raw) as CommandRequest) : undefined;
  }

  static isSuggestion(buttonId: string): boolean {
    return ID_RE.test(buttonId);
  }
}
