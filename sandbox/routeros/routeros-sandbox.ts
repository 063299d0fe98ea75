import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { FaultAction, FaultInjector } from '../faults.js';
import { encodeSentence, SentenceDecoder } from './api-words.js';
import { parseCommand, RouterCommands, type ParsedCommand, type ReplySentence, type Session } from './router-commands.js';
import { upgradeRouterState, type NatRule, type RouterState } from './router-state.js';
import { createSelfSignedCertificate } from './self-signed-certificate.js';

export interface RouterOsSandboxOptions {
  /** Router state; mutated in place, `onChange` is called after every change. */
  state: RouterState;
  /**
   * Faults matched on the command word, e.g. `/ip/firewall/nat/add`, before the command runs;
   * and on `after <command word>` once it has run (a `drop` there loses the answer of a change
   * that was made).
   */
  faults?: FaultInjector;
  onChange?: () => void;
  /** Also listen for api-ssl with a self-signed certificate made at start. */
  tls?: boolean;
  host?: string;
  /** Plain API port (8728 on a router); 0, the default, picks a free one. */
  port?: number;
  /** api-ssl port (8729 on a router); 0, the default, picks a free one. */
  tlsPort?: number;
  /** Which user `user`/`password` report; default `labgate`. */
  user?: string;
}

export interface RouterOsSandbox {
  host: string;
  port: number;
  tlsPort?: number;
  /** The api-ssl certificate, for clients that want to verify it (`ca`). */
  tlsCertificatePem?: string;
  readonly user: string;
  readonly password: string;
  /** A copy of the NAT rules as stored (values as given, not as printed). */
  rules(): NatRule[];
  /** Open API connections (plain and TLS). */
  readonly connections: number;
  /** Cuts every open connection, like a router reboot. */
  dropConnections(): void;
  close(): Promise<void>;
}

interface Running {
  tag?: string;
  interrupt(): void;
}

/** Everything about one client connection: its login, decoder and unfinished commands. */
class ApiConnection {
  private readonly decoder = new SentenceDecoder();
  private readonly session: Session = {};
  private readonly running = new Set<Running>();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly commands: RouterCommands,
    private readonly faults: FaultInjector | undefined,
    private readonly onChange: () => void,
    private readonly onReboot: () => void,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      for (const r of this.running) r.interrupt();
    });
  }

  private receive(chunk: Buffer): void {
    let sentences: string[][];
    try {
      sentences = this.decoder.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const words of sentences) {
      if (this.closed) return;
      if (words.length > 0) this.handle(parseCommand(words));
    }
  }

  private send(sentences: readonly ReplySentence[], tag: string | undefined): void {
    if (this.closed || sentences.length === 0) return;
    const tagWords = tag === undefined ? [] : [`.tag=${tag}`];
    // A real router puts `.tag` right after the reply word.
    this.socket.write(Buffer.concat(sentences.map(([reply, ...attrs]) => encodeSentence([reply!, ...tagWords, ...attrs]))));
  }

  /** Answers at once unless a fault asks for a delay or a hang, so replies keep their order. */
  private handle(cmd: ParsedCommand): void {
    const fault = this.faults?.take(cmd.command);
    if (!fault) {
      this.answer(cmd);
      return;
    }
    void this.answerWithFault(cmd, fault);
  }

  private async answerWithFault(cmd: ParsedCommand, fault: FaultAction): Promise<void> {
    if (fault.delayMs || fault.hang) {
      let finish!: (interrupted: boolean) => void;
      const waited = new Promise<boolean>((resolve) => (finish = resolve));
      const entry: Running = {
        tag: cmd.tag,
        interrupt: () => {
          this.running.delete(entry);
          this.send([['!trap', '=category=2', '=message=interrupted'], ['!done']], cmd.tag);
          finish(true);
        },
      };
      this.running.add(entry);
      const timer = fault.hang
        ? undefined
        : setTimeout(() => {
            // Leave the running set now, so a /cancel arriving meanwhile cannot answer it twice.
            this.running.delete(entry);
            finish(false);
          }, fault.delayMs);
      const interrupted = await waited;
      if (timer) clearTimeout(timer);
      if (interrupted) return;
    }
    if (this.closed || this.strike(fault, cmd.tag)) return;
    this.answer(cmd);
  }

  /** A drop or trap fault, answered in place of the reply; true when it was one. */
  private strike(fault: FaultAction, tag: string | undefined): boolean {
    if (fault.drop) {
      this.socket.destroy();
      return true;
    }
    if (fault.trap) {
      const category = fault.trap.category === undefined ? [] : [`=category=${fault.trap.category}`];
      this.send([['!trap', ...category, `=message=${fault.trap.message}`], ['!done']], tag);
      return true;
    }
    return false;
  }

  private answer(cmd: ParsedCommand): void {
    if (cmd.command === '/cancel') {
      this.cancel(cmd);
      return;
    }
    const outcome = this.commands.execute(this.session, cmd);
    if (outcome.changed) this.onChange();
    // "after <command>" faults strike once the command has run: its change is made, its answer is lost.
    const after = this.faults?.take(`after ${cmd.command}`);
    if (after) {
      void this.replyWithFault(outcome.replies, cmd.tag, after);
      return;
    }
    this.send(outcome.replies, cmd.tag);
    if (outcome.fatal !== undefined) {
      this.socket.end(encodeSentence(['!fatal', outcome.fatal]));
      this.closed = true;
    }
    // The answer goes out first, then the router goes down (every connection is cut).
    if (outcome.reboot) setImmediate(this.onReboot);
  }

  private async replyWithFault(replies: readonly ReplySentence[], tag: string | undefined, fault: FaultAction): Promise<void> {
    if (fault.hang) return;
    if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
    if (this.closed || this.strike(fault, tag)) return;
    this.send(replies, tag);
  }

  /** `/cancel =tag=T` interrupts that command; a bare `/cancel` interrupts them all. */
  private cancel(cmd: ParsedCommand): void {
    const tag = cmd.attributes.get('tag');
    for (const r of [...this.running]) {
      if (tag === undefined || r.tag === tag) r.interrupt();
    }
    this.send([['!done']], cmd.tag);
  }
}

/** Starts the loopback RouterOS API server (and api-ssl when `tls`) over the given state. */
export async function startRouterOsSandbox(options: RouterOsSandboxOptions): Promise<RouterOsSandbox> {
  const host = options.host ?? '127.0.0.1';
  const state = options.state;
  upgradeRouterState(state);
  const commands = new RouterCommands(state);
  const sockets = new Set<Socket>();
  const onChange = options.onChange ?? (() => {});
  const reboot = () => {
    for (const s of sockets) s.destroy();
  };

  const accept = (socket: Socket) => {
    sockets.add(socket);
    // Replies to concurrent commands go out as separate writes; Nagle would hold the later ones.
    socket.setNoDelay(true);
    socket.on('close', () => sockets.delete(socket));
    new ApiConnection(socket, commands, options.faults, onChange, reboot);
  };

  const listen = (server: Server | TlsServer, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });

  const plain = createServer(accept);
  const port = await listen(plain, options.port ?? 0);

  let tlsServer: TlsServer | undefined;
  let tlsPort: number | undefined;
  let tlsCertificatePem: string | undefined;
  if (options.tls) {
    const { certPem, keyPem } = createSelfSignedCertificate(state.identity, [host]);
    tlsCertificatePem = certPem;
    tlsServer = createTlsServer({ cert: certPem, key: keyPem }, accept);
    // A failed handshake must not take the sandbox down.
    tlsServer.on('tlsClientError', () => {});
    tlsPort = await listen(tlsServer, options.tlsPort ?? 0);
  }

  const userName = options.user ?? 'labgate';
  const closeServer = (server: Server | TlsServer) =>
    new Promise<void>((resolve) => server.close(() => resolve()));

  return {
    host,
    port,
    tlsPort,
    tlsCertificatePem,
    user: userName,
    get password() {
      return state.users.find((u) => u.name === userName)?.password ?? '';
    },
    rules: () => structuredClone(state.nat),
    get connections() {
      return sockets.size;
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([closeServer(plain), ...(tlsServer ? [closeServer(tlsServer)] : [])]);
    },
  };
}
