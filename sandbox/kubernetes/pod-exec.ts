import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { KubeStatus } from './api-status.js';

/** One `kubectl exec` as the sandbox's exec handler sees it. */
export interface ExecRequest {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
}

export interface ExecResult {
  stdout: string;
  stderr?: string;
  exitCode: number;
}

/** Runs a command "in" a pod; another simulator (e.g. Tailscale's CLI) answers it. */
export type ExecHandler = (req: ExecRequest) => Promise<ExecResult>;

/**
 * The remotecommand subprotocols the sandbox speaks; the client's order decides among them.
 * No v5 close-stream frames are sent: client-node 2.0 answers them by ending its default
 * streams, which are process.stdout and process.stderr.
 */
const SUPPORTED_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;

/** Answers a request that will not be upgraded with a plain HTTP response carrying a `Status`. */
export function rejectUpgrade(socket: Duplex, code: number, status: KubeStatus | unknown, extraHeaders: Record<string, string> = {}): void {
  const body = typeof status === 'string' ? status : JSON.stringify(status);
  const head = [
    `HTTP/1.1 ${code} ${statusText(code)}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...Object.entries(extraHeaders).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

function statusText(code: number): string {
  const texts: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 503: 'Service Unavailable' };
  return texts[code] ?? 'Error';
}

/** The subprotocol to answer with: the first the client offers that the sandbox supports. */
export function pickSubprotocol(offered: string | undefined): string | undefined {
  const list = (offered ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  return list.find((p) => SUPPORTED_PROTOCOLS.includes(p));
}

function frame(channel: number, data: string | Buffer): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([Buffer.from([channel]), payload]);
}

function statusFrame(exitCode: number, command: string[]): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/**
 * The WebSocket side of `POST|GET /api/v1/namespaces/{ns}/pods/{pod}/exec`: after the
 * caller has checked the pod, it upgrades, runs the handler, sends stdout (channel 1),
 * stderr (channel 2) and the status (channel 3), then closes.
 */
export class PodExecEndpoint {
  private readonly wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => pickSubprotocol([...protocols].join(',')) ?? false,
  });

  constructor(private readonly handler: ExecHandler | undefined) {}

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, exec: ExecRequest): void {
    this.wss.handleUpgrade(req, socket, head, (ws) => void this.run(ws, exec));
  }

  private async run(ws: WebSocket, exec: ExecRequest): Promise<void> {
    let result: ExecResult;
    let status: Record<string, unknown>;
    try {
      result = this.handler
        ? await this.handler(exec)
        : {
            stdout: '',
            stderr: `sandbox: no exec handler is configured, so "${exec.command.join(' ')}" cannot run in ${exec.namespace}/${exec.pod} (container ${exec.container})\n`,
            exitCode: 126,
          };
      status = statusFrame(result.exitCode, exec.command);
    } catch (e) {
      // A fault that cuts the stream: no output, no status, the connection just ends.
      if ((e as Error).name === 'ExecDropped') {
        ws.terminate();
        return;
      }
      result = { stdout: '', stderr: '', exitCode: -1 };
      status = { metadata: {}, status: 'Failure', message: `Internal error occurred: ${(e as Error).message}`, reason: 'InternalError' };
    }
    if (ws.readyState !== ws.OPEN) return;
    if (result.stdout) ws.send(frame(STDOUT, result.stdout));
    if (result.stderr) ws.send(frame(STDERR, result.stderr));
    ws.send(frame(STATUS, JSON.stringify(status)));
    ws.close(1000);
  }

  close(): void {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
  }
}
