import { Channel } from 'node-routeros';

/**
 * Two fixes to node-routeros 1.6.9 (its last release; routeros-client runs on it):
 *
 * - RouterOS 7.18+ answers a print with no results `!empty` before `!done`. node-routeros
 *   throws an uncaught `UNKNOWNREPLY` for it from a socket handler, the print never settles
 *   and the connection is wedged. `!empty` carries nothing, so the channel skips it.
 * - A `!trap` rejects with `new Error(message)`, dropping its category; the error it rejects
 *   with here keeps both (`RouterTrapError`).
 *
 * Applied once per process, to the one copy of node-routeros installed.
 */

/** A `!trap` reply: the router refused the command. */
export class RouterTrapError extends Error {
  override readonly name = 'RouterTrapError';
  constructor(
    message: string,
    /** 0 missing item or command, 1 argument value, 2 interrupted, 3 scripting, 4 general, 5 API, 6 TTY, 7 :return. */
    readonly category: number | undefined,
  ) {
    super(message);
  }
}

const PATCHED = Symbol.for('labgate.node-routeros-patched');

interface ChannelInternals {
  id: string;
  streaming: boolean;
  data: unknown[];
  readAndWrite(params: string[]): void;
  processPacket(packet: string[]): void;
  write: unknown;
  on(event: string, fn: (arg: never) => void): void;
  once(event: string, fn: (arg: never) => void): void;
}

export function patchNodeRouterOs(): void {
  const proto = Channel.prototype as unknown as ChannelInternals & { [PATCHED]?: true };
  if (proto[PATCHED]) return;
  proto[PATCHED] = true;

  const processPacket = proto.processPacket;
  proto.processPacket = function (this: ChannelInternals, packet: string[]) {
    if (packet[0] === '!empty') return;
    return processPacket.call(this, packet);
  };

  // Same as the library's write(), except for the error a trap rejects with.
  proto.write = function (this: ChannelInternals, params: string[], isStream = false, returnPromise = true) {
    this.streaming = isStream;
    params.push(`.tag=${this.id}`);
    if (!returnPromise) {
      this.readAndWrite(params);
      return undefined;
    }
    this.on('data', (packet: never) => this.data.push(packet));
    return new Promise((resolve, reject) => {
      this.once('done', (data: never) => resolve(data));
      this.once('trap', (trap: { message?: string; category?: string }) => {
        const category = trap.category === undefined || trap.category === '' ? undefined : Number(trap.category);
        reject(new RouterTrapError(trap.message ?? 'trap without a message', Number.isFinite(category) ? category : undefined));
      });
      this.readAndWrite(params);
    });
  };
}
