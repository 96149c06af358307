import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { RestartableState } from '../../src/config/runtime.js';
import { notifierEventPattern, remediatorEventPattern } from '../../src/config/event-patterns.js';

export interface EventRoutingProps {
  /** Physical name of the custom event bus (the deployment name). */
  readonly busName: string;
  /** Invoked for `Pod Certificate Unhealthy` events in these states. */
  readonly remediator: lambda.IFunction;
  /** From the remediation policy. */
  readonly restartStates: readonly RestartableState[];
  /**
   * Also route `stale` events that may carry a definite diagnosis (remediation.actOnProvenStale).
   * @default true
   */
  readonly actOnProvenStale?: boolean;
  /** Reads the notification queue. */
  readonly notifier: lambda.IFunction;
  /** The notifier's timeout; the queue's visibility timeout is six times it (AWS guidance). */
  readonly notifierTimeout: Duration;
  /** How long SQS gathers messages before invoking the notifier. */
  readonly batchWindow: Duration;
  /** Receives remediator events EventBridge could not deliver. */
  readonly remediatorDeadLetterQueue: sqs.IQueue;
  /** Receives notifications EventBridge could not queue, and those the notifier gave up on. */
  readonly notificationDeadLetterQueue: sqs.IQueue;
  /**
   * Concurrent notifier invocations; with the per-invocation rate limit this bounds Slack
   * traffic. @default 2 (the SQS event source minimum)
   */
  readonly notifierMaxConcurrency?: number;
  /**
   * Records per notifier invocation when a batch window is set (one sweep's changes should make
   * one message; Lambda also stops a batch at 6 MB). Without a window SQS allows at most 10.
   * @default 100
   */
  readonly notifierBatchSize?: number;
}

/**
 * The custom bus and its two rules: restartable `Pod Certificate Unhealthy` events to the
 * remediator; state changes, restart outcomes and failed or partial sweeps through an SQS
 * queue (batching, back-pressure, redrive) to the notifier.
 */
export class EventRouting extends Construct {
  readonly bus: events.EventBus;
  readonly remediatorRule: events.Rule;
  readonly notifierRule: events.Rule;
  readonly notificationQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: EventRoutingProps) {
    super(scope, id);

    this.bus = new events.EventBus(this, 'Bus', {
      eventBusName: props.busName,
      description: 'mesh-cert-watch: pod certificate findings, sweeps and restarts',
    });

    this.remediatorRule = new events.Rule(this, 'RemediatorRule', {
      eventBus: this.bus,
      description: 'Pod Certificate Unhealthy in a restartable state -> remediator',
      // The patterns are raw EventBridge JSON (`detail-type`, `$or`); CDK passes keys through.
      eventPattern: remediatorEventPattern(props.restartStates, { actOnProvenStale: props.actOnProvenStale ?? true }) as events.EventPattern,
    });
    this.remediatorRule.addTarget(
      new targets.LambdaFunction(props.remediator, {
        deadLetterQueue: props.remediatorDeadLetterQueue,
        retryAttempts: 4,
        // Events are level-triggered: the next sweep re-sends anything still unhealthy.
        maxEventAge: Duration.hours(1),
      }),
    );

    this.notificationQueue = new sqs.Queue(this, 'NotificationQueue', {
      visibilityTimeout: Duration.seconds(props.notifierTimeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: props.notificationDeadLetterQueue, maxReceiveCount: 5 },
    });

    this.notifierRule = new events.Rule(this, 'NotifierRule', {
      eventBus: this.bus,
      description: 'State changes, workload restarts, failed or partial sweeps -> notification queue',
      eventPattern: notifierEventPattern() as events.EventPattern,
    });
    this.notifierRule.addTarget(
      new targets.SqsQueue(this.notificationQueue, {
        deadLetterQueue: props.notificationDeadLetterQueue,
        retryAttempts: 8,
        maxEventAge: Duration.hours(24),
      }),
    );

    props.notifier.addEventSource(
      new SqsEventSource(this.notificationQueue, {
        batchSize: props.batchWindow.toSeconds() > 0 ? (props.notifierBatchSize ?? 100) : 10,
        maxBatchingWindow: props.batchWindow.toSeconds() > 0 ? props.batchWindow : undefined,
        reportBatchItemFailures: true,
        maxConcurrency: props.notifierMaxConcurrency ?? 2,
      }),
    );
  }
}
