import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { HISTORY_PREFIX } from '../../src/aws/history-store.js';
import { acknowledgeWildcardResource } from '../nag.js';

export interface HistoryBucketProps {
  /**
   * How long a sweep's snapshot is kept: the lifecycle rule deletes older ones. The sampler only
   * reads the newest; the rest are there for audits and replays ("what did pod X hold at 03:10?").
   * @default Duration.days(7)
   */
  readonly retention?: Duration;
}

/**
 * The rotation-history bucket (docs/contract.md §8): one snapshot object per cluster per sweep
 * under `history/<cluster>/`, written and read by the sampler only. SSE-S3 encrypted, TLS only,
 * public access blocked, objects owned by the bucket owner, expired by a lifecycle rule, and kept
 * on stack deletion like the tables (without it, the next deployment's first sweeps would judge
 * every pod as first seen).
 */
export class HistoryBucket extends Construct {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: HistoryBucketProps = {}) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(7);
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Every snapshot is a new key: versions would only keep deleted ones longer.
      versioned: false,
      lifecycleRules: [
        { id: 'ExpireSnapshots', prefix: HISTORY_PREFIX, expiration: retention, abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Only the sampler role can read or write it (one LIST, GET and PUT per sweep, under history/); an access-log bucket would be a second bucket to secure and expire for that. Enable CloudTrail S3 data events to audit it.',
    });
  }

  /**
   * Lets `role` list the history prefix and get/put snapshot objects under it, nothing else: no
   * delete (the lifecycle rule expires snapshots), no other prefix, no bucket configuration.
   */
  grantSnapshots(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRotationHistory',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${HISTORY_PREFIX}*`] } },
      }),
    );
    const objects = this.bucket.arnForObjects(`${HISTORY_PREFIX}*`);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'ReadWriteRotationHistory', actions: ['s3:GetObject', 's3:PutObject'], resources: [objects] }));
    acknowledgeWildcardResource(
      role,
      objects,
      'Snapshot keys are history/<cluster>/<inverted time>-<sweepId>.json.gz, a new key every sweep: the sampler can only name them by prefix; get and put only, no delete.',
    );
  }
}
