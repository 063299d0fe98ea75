import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/** One gateway frame, as sent or received, for assertions (identify payload, sequence numbers). */
export interface GatewayFrame {
  direction: 'in' | 'out';
  op: number;
  t?: string | null;
  s?: number | null;
  d?: unknown;
  at: number;
}

export interface GatewayContext {
  token: string;
  heartbeatIntervalMs: number;
  /** `ws://127.0.0.1:PORT/gateway`, known once the HTTP server listens. */
  url: () => string;
  /** The READY `d` minus session fields, and the GUILD_CREATE payloads to follow it. */
  ready: () => { ready: Record<string, unknown>; guilds: Record<string, unknown>[] };
  frames: GatewayFrame[];
}

interface Session {
  id: string;
  seq: number;
  socket: WebSocket | undefined;
  /** Dispatches kept for RESUME replay. */
  sent: { s: number; frame: string }[];
}

const OP = { DISPATCH: 0, HEARTBEAT: 1, IDENTIFY: 2, PRESENCE: 3, RESUME: 6, RECONNECT: 7, INVALID_SESSION: 9, HELLO: 10, HEARTBEAT_ACK: 11 };
const REPLAY_LIMIT = 1000;

/**
 * Discord's gateway over `ws` on the harness's HTTP server: hello, identify → READY and
 * GUILD_CREATE, heartbeat ACKs, resume with replay, plain JSON text frames (no compression).
 */
export class GatewayServer {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Map<string, Session>();
  private readonly sessionWaiters: (() => void)[] = [];

  constructor(
    server: Server,
    private readonly ctx: GatewayContext,
  ) {
    this.wss = new WebSocketServer({ server, path: '/gateway' });
    this.wss.on('connection', (socket, req) => this.onConnection(socket, req));
  }

  /** Resolves once some client has identified (or immediately if one has). */
  waitForSession(timeoutMs: number): Promise<void> {
    if (this.sessions.size) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`discord harness: no client identified on the gateway within ${timeoutMs} ms`)), timeoutMs);
      this.sessionWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /**
   * Sends a dispatch to every session. A session whose socket dropped keeps it for replay on
   * resume, as Discord does. Returns how many sessions it was sent or queued to.
   */
  dispatch(t: string, d: unknown): number {
    for (const session of this.sessions.values()) this.sendDispatch(session, t, d);
    return this.sessions.size;
  }

  /** Closes every client socket with `code` (4000 → discord.js resumes; 1000 → it identifies again). */
  disconnectAll(code = 4000, reason = 'harness disconnect'): void {
    for (const socket of this.wss.clients) socket.close(code, reason);
  }

  close(): Promise<void> {
    for (const socket of this.wss.clients) socket.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }

  private onConnection(socket: WebSocket, req: IncomingMessage): void {
    const params = new URL(req.url ?? '/', 'ws://x').searchParams;
    if (params.get('v') !== '10' || params.get('encoding') !== 'json' || params.has('compress')) {
      // 4012 Invalid API version is the closest close code; compression would need zlib-sync.
      socket.close(4012, 'harness speaks v=10 encoding=json without compression');
      return;
    }
    let session: Session | undefined;
    this.send(socket, { op: OP.HELLO, d: { heartbeat_interval: this.ctx.heartbeatIntervalMs } });

    socket.on('message', (raw, isBinary) => {
      if (isBinary) {
        socket.close(4002, 'Decode error');
        return;
      }
      let frame: { op: number; d?: unknown };
      try {
        frame = JSON.parse(raw.toString());
      } catch {
        socket.close(4002, 'Decode error');
        return;
      }
      this.ctx.frames.push({ direction: 'in', op: frame.op, d: frame.d, at: Date.now() });
      switch (frame.op) {
        case OP.HEARTBEAT:
          this.send(socket, { op: OP.HEARTBEAT_ACK });
          break;
        case OP.IDENTIFY: {
          const d = frame.d as { token?: string };
          if (session) {
            socket.close(4005, 'Already authenticated');
            return;
          }
          if (d?.token !== this.ctx.token) {
            socket.close(4004, 'Authentication failed');
            return;
          }
          session = this.newSession(socket);
          const { ready, guilds } = this.ctx.ready();
          this.sendDispatch(session, 'READY', {
            ...ready,
            session_id: session.id,
            resume_gateway_url: this.ctx.url(),
            shard: [0, 1],
          });
          for (const guild of guilds) this.sendDispatch(session, 'GUILD_CREATE', guild);
          this.sessionWaiters.splice(0).forEach((wake) => wake());
          break;
        }
        case OP.RESUME: {
          const d = frame.d as { token?: string; session_id?: string; seq?: number };
          const known = d?.session_id ? this.sessions.get(d.session_id) : undefined;
          if (!known || d.token !== this.ctx.token) {
            this.send(socket, { op: OP.INVALID_SESSION, d: false });
            return;
          }
          known.socket?.terminate();
          known.socket = socket;
          session = known;
          for (const item of known.sent) if (item.s > (d.seq ?? 0)) socket.send(item.frame);
          this.sendDispatch(known, 'RESUMED', {});
          break;
        }
        case OP.PRESENCE:
        default:
          // Presence, voice and member requests are accepted and ignored: labgate does not use them.
          break;
      }
    });

    socket.on('close', (code) => {
      if (!session || session.socket !== socket) return;
      session.socket = undefined;
      // A normal close ends the session (discord.js uses 1000 when destroyed, 4200 when it means to resume).
      if (code === 1000 || code === 1001) this.sessions.delete(session.id);
    });
    socket.on('error', () => undefined);
  }

  private newSession(socket: WebSocket): Session {
    const session: Session = { id: randomBytes(16).toString('hex'), seq: 0, socket, sent: [] };
    this.sessions.set(session.id, session);
    return session;
  }

  private sendDispatch(session: Session, t: string, d: unknown): void {
    session.seq += 1;
    const s = session.seq;
    const frame = JSON.stringify({ op: OP.DISPATCH, t, s, d });
    session.sent.push({ s, frame });
    if (session.sent.length > REPLAY_LIMIT) session.sent.shift();
    this.ctx.frames.push({ direction: 'out', op: OP.DISPATCH, t, s, d, at: Date.now() });
    session.socket?.send(frame);
  }

  private send(socket: WebSocket, payload: { op: number; d?: unknown }): void {
    this.ctx.frames.push({ direction: 'out', op: payload.op, d: payload.d, at: Date.now() });
    socket.send(JSON.stringify({ s: null, t: null, d: null, ...payload }));
  }
}
