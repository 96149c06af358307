/**
 * AWS tier (`npm run test:aws`, needs python3 with moto[server]): the rule patterns taken from
 * the synthesized template are installed on moto's EventBridge at 127.0.0.1 with an SQS queue
 * behind each rule; every sample event is put on the bus and we read which queues received it.
 * The same verdicts are asserted for the in-process matcher the default tier relies on.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { matchesEventPattern } from '../../src/sandbox/emulator/event-pattern-matcher.js';
import { SAMPLE_EVENTS, type SampleEvent } from '../cdk/support/sample-events.js';
import { exampleConfigInput, resourceByPrefix, synthesize } from '../cdk/support/synth.js';
import { awsJsonCall, MOTO_CREDENTIALS, MOTO_REGION, startMoto, type Moto } from './moto-server.js';

const BUS = 'mesh-cert-watch';
const RULES = ['remediator', 'notifier'] as const;
type RuleName = (typeof RULES)[number];

let moto: Moto;
let patterns: Record<RuleName, Record<string, unknown>>;
const delivered: Record<RuleName, string[]> = { remediator: [], notifier: [] };

const sqs = <T>(action: string, body: Record<string, unknown>) => awsJsonCall<T>(moto, 'sqs', `AmazonSQS.${action}`, body);

/** Identifies a sample from what arrives in a queue (moto assigns its own event id). */
function sampleKey(event: { source: string; 'detail-type': string; detail: unknown }): string {
  return JSON.stringify([event.source, event['detail-type'], event.detail]);
}

beforeAll(async () => {
  const { template } = synthesize(exampleConfigInput());
  patterns = {
    remediator: resourceByPrefix(template, 'AWS::Events::Rule', 'EventsRemediatorRule').Properties.EventPattern as Record<string, unknown>,
    notifier: resourceByPrefix(template, 'AWS::Events::Rule', 'EventsNotifierRule').Properties.EventPattern as Record<string, unknown>,
  };

  moto = await startMoto();
  const events = new EventBridgeClient({ endpoint: moto.endpoint, region: MOTO_REGION, credentials: MOTO_CREDENTIALS });
  await events.send(new CreateEventBusCommand({ Name: BUS }));
  const queueUrls = {} as Record<RuleName, string>;
  for (const rule of RULES) {
    const { QueueUrl } = await sqs<{ QueueUrl: string }>('CreateQueue', { QueueName: `${rule}-target` });
    queueUrls[rule] = QueueUrl;
    const { Attributes } = await sqs<{ Attributes: { QueueArn: string } }>('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] });
    await events.send(new PutRuleCommand({ Name: rule, EventBusName: BUS, EventPattern: JSON.stringify(patterns[rule]) }));
    await events.send(new PutTargetsCommand({ Rule: rule, EventBusName: BUS, Targets: [{ Id: 'queue', Arn: Attributes.QueueArn }] }));
  }

  for (let index = 0; index < SAMPLE_EVENTS.length; index += 10) {
    const batch = SAMPLE_EVENTS.slice(index, index + 10);
    const result = await events.send(
      new PutEventsCommand({
        Entries: batch.map(({ event }) => ({
          EventBusName: BUS,
          Source: event.source,
          DetailType: event['detail-type'],
          Detail: JSON.stringify(event.detail),
          Time: new Date(event.time),
        })),
      }),
    );
    expect(result.FailedEntryCount ?? 0).toBe(0);
  }

  const byKey = new Map(SAMPLE_EVENTS.map((sample) => [sampleKey(sample.event), sample.name]));
  for (const rule of RULES) {
    for (;;) {
      const { Messages = [] } = await sqs<{ Messages?: Array<{ Body: string; ReceiptHandle: string }> }>('ReceiveMessage', {
        QueueUrl: queueUrls[rule],
        MaxNumberOfMessages: 10,
      });
      if (Messages.length === 0) break;
      for (const message of Messages) {
        delivered[rule].push(byKey.get(sampleKey(JSON.parse(message.Body))) ?? `unknown: ${message.Body}`);
        await sqs('DeleteMessage', { QueueUrl: queueUrls[rule], ReceiptHandle: message.ReceiptHandle });
      }
    }
  }
}, 60_000);

afterAll(async () => {
  await moto?.stop();
});

describe.each(RULES)('%s rule on moto EventBridge', (rule) => {
  const expected = (sample: SampleEvent) => sample[rule];

  it('receives exactly the sample events it should', () => {
    expect([...delivered[rule]].sort()).toEqual(SAMPLE_EVENTS.filter(expected).map((sample) => sample.name).sort());
  });

  it('agrees with the in-process matcher on every sample event', () => {
    const inProcess = SAMPLE_EVENTS.filter((sample) => matchesEventPattern(patterns[rule], sample.event)).map((sample) => sample.name);
    expect(inProcess.sort()).toEqual([...delivered[rule]].sort());
  });
});

it('sample events are distinguishable once delivered', () => {
  expect(new Set(SAMPLE_EVENTS.map((sample) => sampleKey(sample.event))).size).toBe(SAMPLE_EVENTS.length);
});
