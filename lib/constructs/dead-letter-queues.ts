import { Duration, Validations } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/**
 * Where failed work ends up, one queue per component so the alarm says which one failed:
 * sampler (undeliverable schedules, failed async invocations), remediator (undeliverable rule
 * targets, failed async invocations) and notifications (undeliverable rule targets, messages
 * the notifier gave up on).
 */
export class DeadLetterQueues extends Construct {
  readonly sampler: sqs.Queue;
  readonly remediator: sqs.Queue;
  readonly notifications: sqs.Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.sampler = this.queue('Sampler', { redriveTarget: false });
    this.remediator = this.queue('Remediator', { redriveTarget: false });
    // The notification queue redrives here, which is how cdk-nag recognizes a dead-letter queue.
    this.notifications = this.queue('Notifications', { redriveTarget: true });
  }

  /** All three, for alarms and dashboards. */
  get all(): ReadonlyArray<{ readonly component: string; readonly queue: sqs.Queue }> {
    return [
      { component: 'sampler', queue: this.sampler },
      { component: 'remediator', queue: this.remediator },
      { component: 'notifications', queue: this.notifications },
    ];
  }

  private queue(id: string, options: { readonly redriveTarget: boolean }): sqs.Queue {
    const queue = new sqs.Queue(this, id, {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    if (!options.redriveTarget) {
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself a dead-letter destination (of Scheduler or an EventBridge target, and of Lambda on-failure), which cdk-nag cannot see; a queue behind it would never be read. Its depth is alarmed.',
      });
    }
    return queue;
  }
}
