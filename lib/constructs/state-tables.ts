import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../src/config/tables.js';

/** Item-level actions only: no scans, no table management. */
const READ_WRITE_ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * The DynamoDB tables: the findings ledger (last state and findings per pod, written by the
 * sampler), the restart budget (per-cluster hourly counters and de-duplication records,
 * written by the remediator) and the notifications table (delivered Slack notifications and
 * the per-webhook rate gate, written by the notifier). All on-demand, with TTL and
 * point-in-time recovery.
 */
export class StateTables extends Construct {
  readonly ledger: dynamodb.Table;
  readonly budget: dynamodb.Table;
  readonly notifications: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.ledger = this.table('Ledger', RemovalPolicy.RETAIN);
    this.budget = this.table('RestartBudget', RemovalPolicy.RETAIN);
    // Short-lived records only: without them a batch retried during a redeploy may post twice.
    this.notifications = this.table('Notifications', RemovalPolicy.DESTROY);
  }

  /** Lets `grantee` read and write items of `table`. */
  static grantItemReadWrite(table: dynamodb.Table, grantee: iam.IGrantable): void {
    table.grant(grantee, ...READ_WRITE_ITEM_ACTIONS);
  }

  private table(id: string, removalPolicy: RemovalPolicy): dynamodb.Table {
    return new dynamodb.Table(this, id, {
      partitionKey: { name: TABLE_KEYS.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_KEYS.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: TABLE_KEYS.timeToLive,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Without the ledger the next sweep reports every pod as new (a burst of notifications);
      // without the budget, restarts already made are forgotten: keep both past a stack delete.
      removalPolicy,
    });
  }
}
