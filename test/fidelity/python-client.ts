import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Runs a Python script with Debian's system interpreter (where python3-hvac and
 * python3-librouteros install; a pyenv shim on PATH may hide them), passing `input` as JSON on
 * stdin and parsing the JSON the script prints last.
 */

const run = promisify(execFile);

export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** Throws with the apt-get line when a module is missing, so the failure says what to install. */
export async function requirePythonModule(module: string, debianPackage: string): Promise<void> {
  const { stdout, stderr } = await run(PYTHON, ['-c', `import ${module}; print(${module}.__file__)`]).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '' }));
  if (!String(stdout).includes(module)) throw new Error(`${debianPackage} is required for this test (apt-get install -y ${debianPackage}; .ci/run installs it): ${stderr}`);
}

export async function runPython<T>(script: string, input: unknown, timeoutMs = 120_000): Promise<T> {
  const child = execFile(PYTHON, ['-c', script], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  child.stdin!.end(JSON.stringify(input));
  const out = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ stdout, stderr }) : reject(new Error(`python exited with ${code}: ${stderr}`))));
  });
  const last = out.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as T;
}
