/**
 * Starts a private moto server (`python3 -m moto.server`) on a free 127.0.0.1 port for one test
 * file, and signs raw AWS JSON-protocol calls for services whose SDK client is not installed
 * (SQS). Only the `test:aws` tier uses it.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { spawn, type ChildProcess } from 'node:child_process';
import { unusedPort } from '../support/net.js';

export const MOTO_REGION = 'us-east-1';
export const MOTO_ACCOUNT = '123456789012';
export const MOTO_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing' };

export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  /** Milliseconds from spawn until the server answered. */
  readonly startMs: number;
  stop(): Promise<void>;
}

export async function startMoto(timeoutMs = 20_000): Promise<Moto> {
  const port = await unusedPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, AWS_DEFAULT_REGION: MOTO_REGION },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await gone;
  };

  while (Date.now() - started < timeoutMs) {
    if (exited) throw new Error(`moto server exited early: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok) return { endpoint, port, startMs: Date.now() - started, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`moto server did not answer within ${timeoutMs} ms: ${stderr}`);
}

/** One signed AWS JSON 1.0 call (e.g. `AmazonSQS.ReceiveMessage`) against moto. */
export async function awsJsonCall<T = Record<string, unknown>>(
  moto: Moto,
  service: string,
  target: string,
  body: Record<string, unknown>,
): Promise<T> {
  const url = new URL(moto.endpoint);
  const request = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': target,
    },
    body: JSON.stringify(body),
  });
  const signer = new SignatureV4({ credentials: MOTO_CREDENTIALS, region: MOTO_REGION, service, sha256: Sha256 });
  const signed = await signer.sign(request);
  const res = await fetch(`${moto.endpoint}/`, { method: 'POST', headers: signed.headers, body: signed.body as string });
  const text = await res.text();
  if (!res.ok) throw new Error(`${target} failed: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : {}) as T;
}
