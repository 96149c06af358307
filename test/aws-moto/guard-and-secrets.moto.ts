/**
 * test:aws tier: the notifier's real Secrets Manager client (SecretsManagerWebhooks over the AWS
 * SDK) and the restart guard's conditional writes (DynamoRestartGuard) against moto, not only
 * dynalite: the sliding budget under 10 concurrent takers, the lease, refunds by holder, records.
 *
 * moto evaluates a condition and writes the item without a lock per item, so two requests that
 * arrive at the same instant can both pass the same condition there (seen: 4 of 10 takers granted
 * a budget of 3). DynamoDB (and dynalite, test/remediator/restart-guard.test.ts) serialise writes
 * per item. Here the ten takers are issued at once but their requests go over one connection, so
 * moto applies them one after another: what is proven is the conditions themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Agent } from 'node:http';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoRestartGuard } from '../../src/aws/restart-guard.js';
import { SecretsManagerSecrets, SecretsManagerWebhooks, webhookId } from '../../src/aws/webhook-secrets.js';
import { PagerDutyChannel } from '../../src/pagerduty/pagerduty-channel.js';
import { ConfigError, MeshCertWatchError } from '../../src/core/model/errors.js';
import { createStateTable } from '../../src/sandbox/emulator/local-dynamodb.js';
import { MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './moto-server.js';

let moto: Moto;
let secrets: SecretsManagerClient;
let dynamo: DynamoDBClient;
const clients: DynamoDBClient[] = [];
const URL_A = 'https://hooks.slack.com/services/T0000/B0000/aaaaaaaaaaaaaaaaaaaaaaaa';
const URL_B = 'https://hooks.slack.com/services/T0000/B0000/bbbbbbbbbbbbbbbbbbbbbbbb';
const ROUTING_KEY = 'MotoRoutingKey000000000000000042';
const NOW = new Date('2030-03-01T12:00:00Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

beforeAll(async () => {
  moto = await startMoto();
  const aws = { endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS };
  secrets = new SecretsManagerClient(aws);
  dynamo = new DynamoDBClient(aws);
  await createStateTable(dynamo, 'budget');
  await secrets.send(new CreateSecretCommand({ Name: 'slack/plain', SecretString: URL_A }));
  await secrets.send(new CreateSecretCommand({ Name: 'slack/json', SecretString: JSON.stringify({ url: URL_B }) }));
  await secrets.send(new CreateSecretCommand({ Name: 'slack/not-slack', SecretString: 'https://evil.example/hook' }));
  await secrets.send(new CreateSecretCommand({ Name: 'pagerduty/plain', SecretString: ROUTING_KEY }));
  await secrets.send(new CreateSecretCommand({ Name: 'pagerduty/json', SecretString: JSON.stringify({ routingKey: ROUTING_KEY }) }));
});

afterAll(async () => {
  secrets?.destroy();
  dynamo?.destroy();
  for (const c of clients) c.destroy();
  await moto?.stop();
});

let serialised: DynamoDBClient | undefined;
/** A guard per taker (one per Lambda sandbox), all over one connection to moto (see above). */
function guard(): DynamoRestartGuard {
  serialised ??= new DynamoDBClient({
    endpoint: moto.endpoint,
    region: MOTO_REGION,
    credentials: MOTO_CREDENTIALS,
    requestHandler: { httpAgent: new Agent({ keepAlive: true, maxSockets: 1 }) },
  });
  if (!clients.includes(serialised)) clients.push(serialised);
  return new DynamoRestartGuard({ client: serialised, tableName: 'budget' });
}

describe('SecretsManagerWebhooks against moto', () => {
  it('reads plain and JSON secrets, caches for the TTL, picks up a rotation after invalidate', async () => {
    let now = 0;
    const webhooks = new SecretsManagerWebhooks({ client: secrets, ttlSeconds: 300, clock: () => now });
    expect(await webhooks.resolve('slack/plain')).toEqual({ id: webhookId(URL_A), url: URL_A });
    expect((await webhooks.resolve('slack/json')).url).toBe(URL_B);
    await secrets.send(new PutSecretValueCommand({ SecretId: 'slack/plain', SecretString: URL_B }));
    now = 299_000;
    expect((await webhooks.resolve('slack/plain')).url).toBe(URL_A); // cached
    webhooks.invalidate('slack/plain');
    expect((await webhooks.resolve('slack/plain')).url).toBe(URL_B);
  });

  it('refuses a non-Slack URL and a missing secret without quoting any value', async () => {
    const webhooks = new SecretsManagerWebhooks({ client: secrets });
    const refused = await webhooks.resolve('slack/not-slack').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConfigError);
    expect(String((refused as Error).message)).not.toContain('evil.example');
    const missing = await webhooks.resolve('slack/missing').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(MeshCertWatchError);
    expect((missing as Error).message).toMatch(/^reading Slack webhook secret slack\/missing: /);
    expect((missing as Error).message).not.toContain('hooks.slack.com');
  });
});

describe('SecretsManagerSecrets against moto: any channel\'s secret', () => {
  it('reads a PagerDuty routing key (plain or JSON) that the channel parses, and names a missing secret without its value', async () => {
    const reader = new SecretsManagerSecrets({ client: secrets });
    const channel = new PagerDutyChannel();
    expect(channel.target('pagerduty/plain', await reader.read('pagerduty/plain'))).toEqual({ id: webhookId(ROUTING_KEY), routingKey: ROUTING_KEY });
    expect(channel.target('pagerduty/json', await reader.read('pagerduty/json')).routingKey).toBe(ROUTING_KEY);
    const missing = await reader.read('pagerduty/missing').catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/^reading notification secret pagerduty\/missing: /);
    // A Slack URL is no routing key: refused without quoting it.
    const refused = (() => {
      try {
        return channel.target('slack/plain', URL_A);
      } catch (e) {
        return e;
      }
    })();
    expect(refused).toBeInstanceOf(ConfigError);
    expect((refused as Error).message).not.toContain('aaaaaaaa');
  });
});

describe('DynamoRestartGuard against moto', () => {
  it('grants exactly the budget to 10 concurrent takers, and holds it as a sliding 60-minute window', async () => {
    const budget = (at: Date, holder: string) => ({ key: 'budget#moto', limit: 3, now: at, windowSeconds: 3600, holder });
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => guard().consumeBudget(budget(minutes(50), `a${i}`))));
    expect(first.filter((r) => r.granted)).toHaveLength(3);
    expect((await guard().consumeBudget(budget(minutes(70), 'b'))).granted).toBe(false); // next clock hour, same window
    const later = await Promise.all(Array.from({ length: 10 }, (_, i) => guard().consumeBudget(budget(minutes(110), `c${i}`))));
    expect(later.filter((r) => r.granted)).toHaveLength(3);
  });

  it('refunds only the holder\'s unit, gives one of many concurrent lease takers the lease, and keeps the record until it expires', async () => {
    const g = guard();
    const budget = (holder: string) => ({ key: 'budget#refund', limit: 1, now: NOW, windowSeconds: 3600, holder });
    expect((await g.consumeBudget(budget('x'))).granted).toBe(true);
    await g.refundBudget('budget#refund', 'y');
    expect((await g.consumeBudget(budget('z'))).granted).toBe(false);
    await g.refundBudget('budget#refund', 'x');
    expect((await g.consumeBudget(budget('z'))).granted).toBe(true);

    const key = 'workload#moto#shop#Deployment#carts';
    const leases = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((holder) => guard().acquireLease({ key, holder, now: NOW, ttlSeconds: 900 })));
    expect(leases.filter((l) => l.acquired)).toHaveLength(1);
    const record = { restartedAt: '2030-03-01T12:00:00Z', triggeredBy: 'sweep-1', serials: ['AA01'] };
    await g.recordRestart(key, record, minutes(120));
    expect(await g.lastRestart(key, minutes(119))).toEqual(record);
    expect(await g.lastRestart(key, minutes(120))).toBeUndefined();
  });
});
