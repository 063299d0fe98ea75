import { randomUUID } from 'node:crypto';

/**
 * OpenBao's HTTP response shapes (sdk/logical/response_util.go, http/logical.go): a JSON
 * envelope for logical responses, `{"errors":[...]}` for failures, raw bodies for the PKI
 * fetch endpoints.
 */

/** A failure answered as `{"errors": errors}` with `status`. */
export class OpenBaoHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[] = [],
  ) {
    super(errors[0] ?? `status ${status}`);
  }
}

/** 400 with one message: OpenBao's logical.ErrorResponse. */
export const userError = (message: string) => new OpenBaoHttpError(400, [message]);
/** 403 for a missing, invalid or expired token, or an ACL denial. */
export const permissionDenied = () => new OpenBaoHttpError(403, ['permission denied']);
/** 404 `{"errors":[]}`: read of a missing entry or an empty list. */
export const notFound = () => new OpenBaoHttpError(404, []);
/** 405: the path exists but not for this operation. */
export const unsupportedOperation = () => new OpenBaoHttpError(405, ['unsupported operation']);
/** 404 for a path no mount handles. */
export const noHandler = (path: string) => new OpenBaoHttpError(404, [`no handler for route "${path}". route entry not found.`]);

export interface AuthBlock {
  client_token: string;
  accessor: string;
  policies: string[];
  token_policies: string[];
  metadata: Record<string, string>;
  lease_duration: number;
  renewable: boolean;
  entity_id: string;
  token_type: 'service';
  orphan: boolean;
  mfa_requirement: null;
  num_uses: number;
}

/** What a handler returns. */
export type HandlerResult =
  | {
      kind: 'json';
      status?: number;
      data: unknown;
      warnings?: string[];
      auth?: AuthBlock;
      leaseId?: string;
      leaseDuration?: number;
      renewable?: boolean;
      /** sys/mounts and sys/auth also copy `data`'s keys to the top level (HTTPSysInjector). */
      injectData?: boolean;
    }
  | { kind: 'raw'; contentType: string; body: Buffer | string }
  /** A JSON body outside the envelope (sys/health). */
  | { kind: 'document'; status: number; body: unknown }
  | { kind: 'empty' };

/** A logical response with `data` and optional warnings. */
export const jsonResult = (data: unknown, warnings?: string[]): HandlerResult => ({ kind: 'json', data, ...(warnings?.length ? { warnings } : {}) });

/** The success envelope OpenBao writes for a logical response. */
export function envelope(result: Extract<HandlerResult, { kind: 'json' }>) {
  const body = {
    request_id: randomUUID(),
    lease_id: result.leaseId ?? '',
    renewable: result.renewable ?? false,
    lease_duration: result.leaseDuration ?? 0,
    data: result.data ?? null,
    wrap_info: null,
    warnings: result.warnings?.length ? result.warnings : null,
    auth: result.auth ?? null,
  };
  return result.injectData && result.data && typeof result.data === 'object' ? { ...(result.data as object), ...body } : body;
}

/** A LIST answer: 404 `{"errors":[]}` when there is nothing to list, as OpenBao does. */
export function listResult(keys: string[], keyInfo?: Record<string, unknown>): HandlerResult {
  if (keys.length === 0) throw notFound();
  return jsonResult(keyInfo ? { keys, key_info: keyInfo } : { keys });
}
