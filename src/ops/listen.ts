export const LISTEN_ERROR = 'must be HOST:PORT or :PORT with a port from 0 to 65535, like 0.0.0.0:9464 or :9464';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `HOST:PORT`, `:PORT` (every interface) or `[IPv6]:PORT`, as `--http`, LABGATE_HTTP and
 * `http.listen` take it. Returns the problem, naming `field`, when it is not one.
 */
export function parseListen(value: string, field: string): ListenAddress | { problem: string } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([a-zA-Z0-9.-]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535))
    return { problem: `${field}: ${LISTEN_ERROR} (got ${JSON.stringify(value)})` };
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}
