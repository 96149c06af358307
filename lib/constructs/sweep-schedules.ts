import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** One cluster's sweep schedule. */
export interface ClusterSchedule {
  /** Sent to the sampler as `{"cluster": name}`. */
  readonly cluster: string;
  /** Minutes between sweeps. */
  readonly rateMinutes: number;
  /** Scheduler retries of a failed invoke. */
  readonly retryAttempts: number;
}

export interface SweepSchedulesProps {
  /** Schedule group name (the deployment name). */
  readonly groupName: string;
  /** The function every schedule invokes. */
  readonly sampler: lambda.IFunction;
  /** One per cluster. */
  readonly schedules: readonly ClusterSchedule[];
  /** Receives scheduled invocations that could not be delivered after the retries. */
  readonly deadLetterQueue: sqs.IQueue;
}

/**
 * One EventBridge Scheduler schedule per cluster, in a group of their own, each invoking the
 * sampler with `{"cluster": "<name>"}`. L1 resources: the L2 target grants `lambda:InvokeFunction`
 * on every version and alias (`<arn>:*`), this role names the function only.
 */
export class SweepSchedules extends Construct {
  readonly group: scheduler.CfnScheduleGroup;
  readonly role: iam.Role;
  readonly schedules: ReadonlyMap<string, scheduler.CfnSchedule>;

  constructor(scope: Construct, id: string, props: SweepSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.group = new scheduler.CfnScheduleGroup(this, 'Group', { name: props.groupName });

    this.role = new iam.Role(this, 'InvokeRole', {
      description: `EventBridge Scheduler invokes the sampler for ${props.groupName}`,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        // Confused-deputy guard: only schedules of this group, in this account, may use the role.
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account, 'aws:SourceArn': this.group.attrArn } },
      }),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InvokeSampler', actions: ['lambda:InvokeFunction'], resources: [props.sampler.functionArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'DeadLetter', actions: ['sqs:SendMessage'], resources: [props.deadLetterQueue.queueArn] }),
    );

    const schedules = new Map<string, scheduler.CfnSchedule>();
    for (const schedule of props.schedules) {
      const interval = Duration.minutes(schedule.rateMinutes);
      schedules.set(
        schedule.cluster,
        new scheduler.CfnSchedule(this, `Sweep-${schedule.cluster}`, {
          groupName: this.group.ref,
          description: `Sweep EKS cluster ${schedule.cluster} every ${schedule.rateMinutes} min`,
          scheduleExpression: `rate(${schedule.rateMinutes} ${schedule.rateMinutes === 1 ? 'minute' : 'minutes'})`,
          // Sweeps are periodic measurements: run them on time, never spread them out.
          flexibleTimeWindow: { mode: 'OFF' },
          state: 'ENABLED',
          target: {
            arn: props.sampler.functionArn,
            roleArn: this.role.roleArn,
            input: JSON.stringify({ cluster: schedule.cluster }),
            // A sweep that could not start within one interval is superseded by the next one.
            retryPolicy: { maximumRetryAttempts: schedule.retryAttempts, maximumEventAgeInSeconds: Math.max(60, interval.toSeconds()) },
            deadLetterConfig: { arn: props.deadLetterQueue.queueArn },
          },
        }),
      );
    }
    this.schedules = schedules;
  }
}
