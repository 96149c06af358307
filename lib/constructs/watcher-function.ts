import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { ConfigError } from '../../src/core/model/errors.js';
import { RUNTIME_CONFIG_ENV } from '../../src/config/runtime.js';
import { nodejsFunctionBundling } from '../bundling/esbuild-options.js';
import { acknowledgeWildcardResource } from '../nag.js';

/** Subnets and security groups of an existing VPC. */
export interface VpcPlacement {
  readonly vpcId: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** How Lambda handles asynchronous invocations (Scheduler, EventBridge rules). */
export interface AsyncInvokeOptions {
  /** Lambda's own retries after a function error. */
  readonly retryAttempts: number;
  /** Events older than this are dropped to `onFailure` instead of run. */
  readonly maxEventAge: Duration;
  /** Receives a record of every invocation that failed for good. */
  readonly onFailure: sqs.IQueue;
}

export interface WatcherFunctionProps {
  /** Physical function name; its log group is `/aws/lambda/<functionName>`. */
  readonly functionName: string;
  /** Lambda description, shown in the console. */
  readonly description: string;
  /** TypeScript entry file exporting `handler`. */
  readonly entry: string;
  /** Directory holding package.json and package-lock.json (esbuild's working directory). */
  readonly projectRoot: string;
  /** Lambda runtime; also picks esbuild's `node22` / `node24` target. */
  readonly runtime: 'nodejs22.x' | 'nodejs24.x';
  readonly timeout: Duration;
  /** MiB. */
  readonly memorySize: number;
  /** How long the function's log group keeps events. */
  readonly logRetention: logs.RetentionDays;
  /** Serialized into `MESH_CERT_WATCH_CONFIG`; may contain CDK tokens (table names...). */
  readonly runtimeConfig: object;
  /** Setting reported when the configuration does not fit in the function's environment. */
  readonly runtimeConfigSetting: string;
  /** Run inside these subnets. @default not in a VPC */
  readonly vpc?: VpcPlacement;
  /** @default Lambda's defaults, no failure destination (synchronous callers only) */
  readonly asyncInvoke?: AsyncInvokeOptions;
  /** Reserved concurrency (cap and floor). @default none: the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
}

/** The newest Node.js Lambda runtime this configuration offers. */
const LATEST_RUNTIME = 'nodejs24.x';

/** Lambda's limit for all environment variables of a function together. */
const ENVIRONMENT_LIMIT_BYTES = 4096;
/** A token renders as ~25 characters but may resolve to ~100 (a generated table name). */
const TOKEN_ALLOWANCE_BYTES = 100;

/**
 * One of the watcher's Lambda functions: arm64 Node.js bundled as ESM with the local esbuild,
 * its own execution role (no managed policies: callers grant exactly what it uses), a log group
 * with retention, JSON logs and one configuration variable.
 */
export class WatcherFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WatcherFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetention,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogs',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const configJson = stack.toJsonString(props.runtimeConfig);
    // toJsonString returns a token; measure the plain serialization (tokens as placeholders).
    assertEnvironmentFits(JSON.stringify(props.runtimeConfig), props.runtimeConfigSetting, props.functionName);

    const nodeMajor = props.runtime === 'nodejs24.x' ? 24 : 22;

    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: new lambda.Runtime(props.runtime, lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true }),
      architecture: lambda.Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      ...(props.reservedConcurrentExecutions !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions } : {}),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      recursiveLoop: lambda.RecursiveLoop.TERMINATE,
      environment: {
        [RUNTIME_CONFIG_ENV]: configJson,
        NODE_OPTIONS: '--enable-source-maps',
      },
      // The one bundling source, shared with the bench (lib/bundling/esbuild-options.ts).
      bundling: nodejsFunctionBundling(nodeMajor),
      ...(props.asyncInvoke
        ? {
            retryAttempts: props.asyncInvoke.retryAttempts,
            maxEventAge: props.asyncInvoke.maxEventAge,
            onFailure: new destinations.SqsDestination(props.asyncInvoke.onFailure),
          }
        : {}),
    });
    if (props.vpc) this.placeInVpc(props.vpc);
    if (props.runtime !== LATEST_RUNTIME) {
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason: `${props.runtime} is the Node.js line the project builds and tests on (package.json pins node 22); ${LATEST_RUNTIME} is one setting away (functions.runtime).`,
      });
    }
  }

  /**
   * VPC placement by id, on the L1 resource: the L2 `vpc` prop needs an IVpc, which without a
   * lookup (the synth is offline) needs made-up availability zones. Lambda creates the ENIs
   * with the execution role, so it gets the ENI permissions, scoped to these subnets and groups
   * where EC2 supports resource-level permissions.
   */
  private placeInVpc(placement: VpcPlacement): void {
    const stack = Stack.of(this);
    const ec2Arn = (resource: string) => stack.formatArn({ service: 'ec2', resource });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'CreateFunctionNetworkInterfaces',
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          ec2Arn('network-interface/*'),
          ...placement.subnetIds.map((id) => ec2Arn(`subnet/${id}`)),
          ...placement.securityGroupIds.map((id) => ec2Arn(`security-group/${id}`)),
        ],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManageFunctionNetworkInterfaces',
        actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
        resources: [ec2Arn('network-interface/*')],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeFunctionNetwork',
        actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
        resources: ['*'],
      }),
    );
    acknowledgeWildcardResource(
      this.role,
      '*',
      'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions; Lambda needs them to attach the function to the VPC.',
    );
    acknowledgeWildcardResource(
      this.role,
      ec2Arn('network-interface/*'),
      "Lambda creates the function's network interfaces itself; their ids are unknown until then, so the ENI actions name all network interfaces of this account and region (subnets and security groups are named).",
    );
    (this.function.node.defaultChild as lambda.CfnFunction).vpcConfig = {
      subnetIds: [...placement.subnetIds],
      securityGroupIds: [...placement.securityGroupIds],
    };
  }
}

function assertEnvironmentFits(configJson: string, setting: string, functionName: string): void {
  const tokenCount = (configJson.match(/\$\{Token\[/g) ?? []).length;
  const estimate = Buffer.byteLength(configJson) + tokenCount * TOKEN_ALLOWANCE_BYTES + 200;
  if (estimate > ENVIRONMENT_LIMIT_BYTES) {
    throw new ConfigError(
      setting,
      `${functionName}'s configuration needs about ${estimate} bytes of environment but Lambda allows ${ENVIRONMENT_LIMIT_BYTES}; split the clusters across deployments (distinct \`name\`)`,
    );
  }
}
