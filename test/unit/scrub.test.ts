/**
 * One scrubber for cluster text: key material never reaches an output, and Slack never acts on
 * mrkdwn from the cluster, in the blocks or in the fallback text. The end-to-end case runs a
 * sidecar whose stderr carries a private key and Slack control sequences through the real exec
 * path, and looks for them in the report, the table, the events and the Slack message.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { computeChanges } from '../../src/core/events/changes.js';
import { describeError } from '../../src/core/model/errors.js';
import { buildSweepCompletedDetail, POD_CERTIFICATE_STATE_CHANGED, SWEEP_COMPLETED } from '../../src/core/events/events.js';
import { parseNotificationEvent } from '../../src/core/notification/notifications.js';
import { renderSweepTable } from '../../src/core/render/render.js';
import { cleanText, REDACTED_KEY, scrubKeyMaterial, singleLine } from '../../src/core/model/scrub.js';
import { renderPlainText, renderSlackMessage } from '../../src/slack/slack-message.js';
import { runSweep } from '../../src/core/judgement/sweep.js';
import { DEFAULT_THRESHOLDS } from '../../src/core/model/threshold.js';
import { startKubeApiEmulator, type KubeApiEmulator } from '../../src/sandbox/emulator/kube-api.js';
import { Mesh } from '../../src/sandbox/emulator/mesh.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { kubeSweepSource } from '../../src/kube/kube-sweep.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PKCS8_PEM = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PKCS1_DER_B64 = rsa.privateKey.export({ type: 'pkcs1', format: 'der' }).toString('base64');
const SEC1_DER_B64 = ec.privateKey.export({ type: 'sec1', format: 'der' }).toString('base64');
const PEM_BODY = PKCS8_PEM.split('\n').slice(1, -2).join('');

/** No output may hold any of these. */
function leaks(text: string): string[] {
  const found: string[] = [];
  if (text.includes('PRIVATE KEY')) found.push('PEM armour');
  for (const line of PKCS8_PEM.split('\n').slice(1, -2)) if (line.length > 20 && text.includes(line.slice(0, 20))) found.push('PEM body');
  if (text.includes(PKCS1_DER_B64.slice(0, 40))) found.push('PKCS#1 base64');
  if (text.includes(SEC1_DER_B64.slice(0, 40))) found.push('SEC1 base64');
  return found;
}

describe('scrubKeyMaterial', () => {
  it('redacts PEM blocks, cut PEM blocks and stray armour', () => {
    expect(scrubKeyMaterial(`before ${PKCS8_PEM} after`)).toBe(`before ${REDACTED_KEY}\n after`);
    expect(scrubKeyMaterial(`x: ${PKCS8_PEM.slice(0, 120)}`)).toBe(`x: ${REDACTED_KEY}`);
    expect(scrubKeyMaterial('tail -----END PRIVATE KEY----- done')).toBe(`tail ${REDACTED_KEY} done`);
  });

  it('redacts base64 runs that parse as private keys (PKCS#8, PKCS#1, SEC1), also wrapped with escaped newlines', () => {
    expect(scrubKeyMaterial(`key=${PKCS1_DER_B64};`)).toBe(`key=${REDACTED_KEY};`);
    expect(scrubKeyMaterial(`key=${SEC1_DER_B64}`)).toBe(`key=${REDACTED_KEY}`);
    expect(scrubKeyMaterial(`"${PEM_BODY.match(/.{1,64}/g)!.join('\\n')}"`)).toBe(`"${REDACTED_KEY}"`);
  });

  it('leaves base64 that is not a key alone (a certificate serial, a SPIFFE trust bundle digest)', () => {
    const notKey = Buffer.alloc(80, 7).toString('base64');
    expect(scrubKeyMaterial(`digest ${notKey}`)).toBe(`digest ${notKey}`);
    expect(scrubKeyMaterial('pods "carts-7d9f" is forbidden')).toBe('pods "carts-7d9f" is forbidden');
  });

  it('makes one printable line of anything (C0, DEL and C1 controls, terminal escapes)', () => {
    expect(singleLine('a\nb\r\tc\u001b[31mred\u009b2J\u007f end ')).toBe('a b c [31mred 2J  end');
    expect(cleanText(`stderr:\n${PKCS8_PEM}`)).toBe(`stderr: ${REDACTED_KEY}`);
    expect(describeError(new Error(`exec failed: ${PKCS1_DER_B64}\nsecond line`))).toBe(`exec failed: ${REDACTED_KEY}`);
  });
});

describe('hostile sidecar output through every output', () => {
  let emulator: KubeApiEmulator;
  beforeAll(async () => {
    emulator = await startKubeApiEmulator();
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('stderr with a private key and Slack control sequences reaches no output raw', async () => {
    const mesh = new Mesh(emulator, { startTime: new Date(Date.now() - 3600_000) });
    const pod = mesh.addDeployment('shop', 'carts').pods[0]!;
    const hostile = `<!channel> <https://evil.example|Click here> & ${PKCS8_PEM}`;
    emulator.setExecHandler(() => ({ stderr: `${PKCS8_PEM.split('\n')[1]}\n${hostile}`, exitCode: 1 }));
    const client = new KubeClient(emulator.kubeConfig(), { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const report = await runSweep(kubeSweepSource(client), { cluster: 'prod-mesh', sweepId: 'sweep-x', thresholds: DEFAULT_THRESHOLDS, concurrency: 2 });
    expect(report.pods.map((p) => p.state)).toEqual(['unreachable']);
    emulator.setExecHandler(undefined);

    // A stderr line that is a bare PEM body fragment (not a key by itself) is hidden too.
    const error = report.pods[0]!.error!;
    expect(error).toMatch(new RegExp(`^command in shop/${pod.metadata.name}/istio-proxy failed with exit code 1: .*\\(stderr: …\\)$`));

    // Now the hostile line first: what the engine keeps is scrubbed and escaped where it goes.
    emulator.setExecHandler(() => ({ stderr: hostile, exitCode: 1 }));
    const second = await runSweep(kubeSweepSource(client), { cluster: 'prod-mesh', sweepId: 'sweep-y', thresholds: DEFAULT_THRESHOLDS, concurrency: 2 });
    emulator.setExecHandler(undefined);
    const changes = computeChanges({ previous: [], report: second, scope: 'all' });
    const completed = buildSweepCompletedDetail(second, { failed: false, sweepErrors: [] });
    const items = [
      ...changes.changes.map((detail) => parseNotificationEvent({ 'detail-type': POD_CERTIFICATE_STATE_CHANGED, ...detail })),
      parseNotificationEvent({ 'detail-type': SWEEP_COMPLETED, ...completed, partial: true }),
    ];
    const slack = renderSlackMessage(items)!;
    const outputs = {
      report: JSON.stringify(second),
      table: renderSweepTable(second),
      events: JSON.stringify([changes, completed]),
      slack: JSON.stringify(slack),
      fallback: slack.text,
      preview: renderPlainText(slack),
    };
    for (const [where, text] of Object.entries(outputs)) expect([where, leaks(text)]).toEqual([where, []]);
    // The cluster's mrkdwn never becomes a mention or a link in anything sent to Slack.
    for (const text of [JSON.stringify(slack.blocks), slack.text]) {
      expect(text).not.toContain('<!channel>');
      expect(text).not.toContain('<https://evil.example');
    }
    expect(JSON.stringify(slack.blocks)).toContain('&lt;!channel&gt;');
    expect(slack.text).not.toMatch(/[<>]/);
  });

  it('the fallback text keeps the escaping of the blocks (it is read as mrkdwn too)', () => {
    const failed = parseNotificationEvent({
      'detail-type': SWEEP_COMPLETED,
      ...buildSweepCompletedDetail(
        { cluster: 'prod-mesh', sweepId: 's1', startedAt: '2030-01-01T00:00:00Z', finishedAt: '2030-01-01T00:00:01Z', now: '2030-01-01T00:00:00Z', thresholds: { staleAfter: '60%', expiringWithin: '20%' }, summary: { sampled: 0, skipped: 0, healthy: 0, stale: 0, expiring: 0, expired: 0, missing: 0, unreachable: 0 }, partial: false, pods: [] },
        { failed: true, sweepErrors: [{ namespace: null, name: null, error: `<!channel> <https://evil.example|Click here> & ${PKCS1_DER_B64}` }] },
      ),
    });
    const slack = renderSlackMessage([failed])!;
    expect(slack.text).toContain('&lt;!channel&gt; &lt;https://evil.example|Click here&gt; &amp; [redacted key material]');
    expect(slack.text).not.toMatch(/[<>]/);
    expect(leaks(JSON.stringify(slack))).toEqual([]);
  });
});
