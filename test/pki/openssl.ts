import { execFile } from 'node:child_process';

export interface OpensslResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the system `openssl` with the passphrase in the environment (`-passin env:P12_PASS`),
 * resolving with the exit code instead of rejecting so tests can assert on failures.
 */
export function openssl(args: string[], passphrase = ''): Promise<OpensslResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      args,
      { env: { ...process.env, P12_PASS: passphrase }, encoding: 'utf8', maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') return reject(error); // not installed, not a failed run
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
  });
}
