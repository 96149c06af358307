import { beforeAll, describe, expect, it } from '@jest/globals';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ConfigError } from '../../src/core/model/errors.js';
import { DETAIL_TYPES } from '../../src/core/events/events.js';
import { eventSchema, schemaName } from '../../lib/event-schema-content.js';
import { KUBERNETES_GROUPS } from '../../src/config/kubernetes.js';
import { METRICS_NAMESPACE, SAMPLER_METRICS } from '../../src/config/metric-names.js';
import { ALARM_METRICS_PER_CLUSTER } from '../../src/sandbox/simulation/cost.js';
import {
  notifierRuntimeConfig,
  parseRuntimeConfig,
  remediatorRuntimeConfig,
  RUNTIME_CONFIG_ENV,
  samplerRuntimeConfig,
} from '../../src/config/runtime.js';
import { notifierEventPattern, remediatorEventPattern } from '../../src/config/event-patterns.js';
import {
  exampleConfigInput,
  minimalConfigInput,
  renderWithPlaceholders,
  resourceByPrefix,
  resourcesOfType,
  synthesize,
} from './support/synth.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const CLUSTERS = ['prod-eu-1', 'staging-eu-1'];

let template: Template;
beforeAll(() => {
  ({ template } = synthesize(exampleConfigInput()));
});

const getAtt = (prefix: string, type: string, attribute = 'Arn') => ({
  'Fn::GetAtt': [resourceByPrefix(template, type, prefix).id, attribute],
});
const ref = (prefix: string, type: string) => ({ Ref: resourceByPrefix(template, type, prefix).id });
const functionProps = (component: 'Sampler' | 'Remediator' | 'Notifier') =>
  resourceByPrefix(template, 'AWS::Lambda::Function', `${component}Function`).Properties;

/** Every statement of the inline policy attached to a role. */
function statementsOf(roleIdPrefix: string): Array<Record<string, unknown>> {
  const roleId = resourceByPrefix(template, 'AWS::IAM::Role', roleIdPrefix).id;
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(roleId))
    .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement);
}

function runtimeConfigOf(component: 'Sampler' | 'Remediator' | 'Notifier'): unknown {
  const variables = (functionProps(component).Environment as { Variables: Record<string, unknown> }).Variables;
  return JSON.parse(renderWithPlaceholders(variables[RUNTIME_CONFIG_ENV]));
}

describe('sweep schedules', () => {
  it('invoke the sampler once per cluster with {"cluster": name}, at the configured rate, flexible window off', () => {
    const schedules = Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule')).map((schedule) => schedule.Properties);
    expect(schedules).toHaveLength(2);
    expect(schedules.map((schedule) => [JSON.parse((schedule.Target as { Input: string }).Input), schedule.ScheduleExpression])).toEqual([
      [{ cluster: 'prod-eu-1' }, 'rate(5 minutes)'],
      [{ cluster: 'staging-eu-1' }, 'rate(10 minutes)'],
    ]);
    for (const schedule of schedules) {
      expect(schedule.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
      expect((schedule.Target as { Arn: unknown }).Arn).toEqual(getAtt('SamplerFunction', 'AWS::Lambda::Function'));
    }
  });

  it('retry little and dead-letter what could not be delivered', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 300 },
        DeadLetterConfig: { Arn: getAtt('DeadLettersSampler', 'AWS::SQS::Queue') },
      }),
    });
  });

  it('live in a group named after the deployment, with a role only its schedules can assume', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'mesh-cert-watch' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT, 'aws:SourceArn': getAtt('SchedulesGroup', 'AWS::Scheduler::ScheduleGroup') } },
          }),
        ],
      },
    });
  });

  it('use a role that may invoke the sampler function itself (no versions or aliases) and write its DLQ', () => {
    expect(statementsOf('SchedulesInvokeRole')).toEqual([
      { Sid: 'InvokeSampler', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt('SamplerFunction', 'AWS::Lambda::Function') },
      { Sid: 'DeadLetter', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('DeadLettersSampler', 'AWS::SQS::Queue') },
    ]);
  });
});

describe('functions', () => {
  it('are arm64 Node.js functions with their own names and the esbuild bundle handler', () => {
    for (const [component, name] of [
      ['Sampler', 'mesh-cert-watch-sampler'],
      ['Remediator', 'mesh-cert-watch-remediator'],
      ['Notifier', 'mesh-cert-watch-notifier'],
    ] as const) {
      expect(functionProps(component)).toMatchObject({ FunctionName: name, Architectures: ['arm64'], Runtime: 'nodejs22.x', Handler: 'index.handler' });
    }
  });

  it('place the sampler and remediator in the configured subnets and security groups, the notifier in none', () => {
    const vpcConfig = { SubnetIds: ['subnet-0a1b2c3d4e5f60718', 'subnet-08f7e6d5c4b3a2910'], SecurityGroupIds: ['sg-0a1b2c3d4e5f60718'] };
    expect(functionProps('Sampler').VpcConfig).toEqual(vpcConfig);
    expect(functionProps('Remediator').VpcConfig).toEqual(vpcConfig);
    expect(functionProps('Notifier').VpcConfig).toBeUndefined();
  });

  it('log as JSON to their own log group, kept for the configured retention', () => {
    for (const component of ['Sampler', 'Remediator', 'Notifier'] as const) {
      const logGroup = resourceByPrefix(template, 'AWS::Logs::LogGroup', `${component}LogGroup`);
      expect(logGroup.Properties).toMatchObject({ LogGroupName: `/aws/lambda/mesh-cert-watch-${component.toLowerCase()}`, RetentionInDays: 30 });
      expect(functionProps(component).LoggingConfig).toMatchObject({ LogFormat: 'JSON', LogGroup: { Ref: logGroup.id } });
    }
  });

  it('have timeouts sized to the sweep: the sampler stops before the next sweep of any cluster starts', () => {
    expect(functionProps('Sampler').Timeout).toBe(240);
    expect(functionProps('Remediator').Timeout).toBe(60);
    expect(functionProps('Notifier').Timeout).toBe(30);
    const shortestInterval = Math.min(...Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule')).map((schedule) =>
      Number(/rate\((\d+) /.exec(String(schedule.Properties.ScheduleExpression))?.[1]) * 60,
    ));
    expect(functionProps('Sampler').Timeout as number).toBeLessThan(shortestInterval);
  });

  it('send failed asynchronous invocations to their dead-letter queue: the sampler without retrying', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref('SamplerFunction', 'AWS::Lambda::Function'),
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: getAtt('DeadLettersSampler', 'AWS::SQS::Queue') } },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref('RemediatorFunction', 'AWS::Lambda::Function'),
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: getAtt('DeadLettersRemediator', 'AWS::SQS::Queue') } },
    });
  });

  it('give the sampler a MESH_CERT_WATCH_CONFIG its runtime schema accepts, with every cluster', () => {
    const config = parseRuntimeConfig(samplerRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(runtimeConfigOf('Sampler')) });
    expect(config.eventBusName).toBe('mesh-cert-watch');
    expect(config.clusters.map((cluster) => [cluster.name, cluster.region, cluster.thresholds.staleAfter.text, cluster.thresholds.expiringWithin.text])).toEqual([
      ['prod-eu-1', REGION, '60%', '20%'],
      ['staging-eu-1', REGION, '36m', '12m'],
    ]);
    expect(config.clusters[0]?.namespaces).toEqual({ include: [], exclude: ['kube-system', 'istio-system'] });
    expect(config.sweepDeadlineMarginSeconds).toBe(20);
    expect(config.dashboardUrl).toBe('https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/mesh-cert-watch');
  });

  it('give the remediator a MESH_CERT_WATCH_CONFIG its runtime schema accepts, with the policy', () => {
    const config = parseRuntimeConfig(remediatorRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(runtimeConfigOf('Remediator')) });
    expect(config.policy).toEqual({
      restartStates: ['expiring', 'expired'],
      cooldownMinutes: 15,
      budgetPerHour: 5,
      breakerUnhealthyShare: 0.5,
      dryRun: true,
      deleteBarePods: false,
      actOnProvenStale: true,
      agentRestarts: true,
    });
    expect(config.clusters).toEqual(CLUSTERS.map((name) => ({ name, region: REGION, tbot: { namespace: 'teleport-system', labelSelector: 'app=tbot' } })));
  });

  it('give the notifier a MESH_CERT_WATCH_CONFIG its runtime schema accepts, with the Slack secrets', () => {
    const config = parseRuntimeConfig(notifierRuntimeConfig, { [RUNTIME_CONFIG_ENV]: JSON.stringify(runtimeConfigOf('Notifier')) });
    expect(config).toMatchObject({
      destinations: [
        { channel: 'slack', secretId: 'mesh-cert-watch/slack-webhook', minimumSeverity: 'stale' },
        { channel: 'slack', secretId: 'mesh-cert-watch/slack-webhook-payments', namespaces: ['payments'], minimumSeverity: 'stale' },
        { channel: 'pagerduty', secretId: 'mesh-cert-watch/pagerduty-routing-key', minimumSeverity: 'expiring', incidentStates: ['expired'] },
      ],
      maxMessagesPerSecond: 1,
      deliveryTableName: 'resolved-at-deploy',
      deliveryLeaseSeconds: 60,
    });
  });
});

describe('event routing', () => {
  it('uses a custom event bus named after the deployment', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'mesh-cert-watch' });
  });

  it('sends restartable Pod Certificate Unhealthy events to the remediator, with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: ref('EventsBus', 'AWS::Events::EventBus'),
      EventPattern: remediatorEventPattern(['expiring', 'expired']),
      Targets: [
        Match.objectLike({
          Arn: getAtt('RemediatorFunction', 'AWS::Lambda::Function'),
          DeadLetterConfig: { Arn: getAtt('DeadLettersRemediator', 'AWS::SQS::Queue') },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 3600 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: getAtt('RemediatorFunction', 'AWS::Lambda::Function'),
      SourceArn: getAtt('EventsRemediatorRule', 'AWS::Events::Rule'),
    });
  });

  it('sends state changes, restarts and failed sweeps to the notification queue, with a DLQ', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: ref('EventsBus', 'AWS::Events::EventBus'),
      EventPattern: notifierEventPattern(),
      Targets: [
        Match.objectLike({
          Arn: getAtt('EventsNotificationQueue', 'AWS::SQS::Queue'),
          DeadLetterConfig: { Arn: getAtt('DeadLettersNotifications', 'AWS::SQS::Queue') },
        }),
      ],
    });
  });

  it('buffers notifications in an encrypted queue that redrives to the DLQ and outlives six notifier timeouts', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 180,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: getAtt('DeadLettersNotifications', 'AWS::SQS::Queue'), maxReceiveCount: 5 },
    });
  });

  it('feeds the notifier in batches with partial-batch failures and bounded concurrency', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt('EventsNotificationQueue', 'AWS::SQS::Queue'),
      FunctionName: ref('NotifierFunction', 'AWS::Lambda::Function'),
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 20,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  it('allows only EventBridge, from the notifier rule, and TLS clients to use the notification queue', () => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref('EventsNotificationQueue', 'AWS::SQS::Queue')],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': getAtt('EventsNotifierRule', 'AWS::Events::Rule') } },
          }),
        ]),
      },
    });
  });

  it('publishes a schema per detail-type to the registry', () => {
    template.hasResourceProperties('AWS::EventSchemas::Registry', { RegistryName: 'mesh-cert-watch' });
    const schemas = Object.values(resourcesOfType(template, 'AWS::EventSchemas::Schema')).map((schema) => schema.Properties);
    expect(schemas.map((schema) => schema.SchemaName).sort()).toEqual(DETAIL_TYPES.map(schemaName).sort());
    for (const detailType of DETAIL_TYPES) {
      const schema = schemas.find((candidate) => candidate.SchemaName === schemaName(detailType));
      expect(schema).toMatchObject({ Type: 'JSONSchemaDraft4', RegistryName: getAtt('SchemasRegistry', 'AWS::EventSchemas::Registry', 'RegistryName') });
      expect(JSON.parse(String(schema?.Content))).toEqual(eventSchema(detailType));
    }
  });
});

describe('state tables', () => {
  it('are three on-demand tables keyed pk/sk with TTL on expiresAt and point-in-time recovery', () => {
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(3);
    for (const table of tables) {
      expect(table).toMatchObject({
        Properties: {
          BillingMode: 'PAY_PER_REQUEST',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
          TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
      });
    }
  });
  it('keep the ledger and the restart budget past a stack delete, not the notification records', () => {
    const tables = template.findResources('AWS::DynamoDB::Table') as Record<string, { DeletionPolicy?: string }>;
    const policy = (prefix: string) => tables[resourceByPrefix(template, 'AWS::DynamoDB::Table', prefix).id]?.DeletionPolicy;
    expect([policy('StateLedger'), policy('StateRestartBudget'), policy('StateNotifications')]).toEqual(['Retain', 'Retain', 'Delete']);
  });
});

describe('IAM', () => {
  const allStatements = () =>
    Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
    );

  it('grants no wildcard actions anywhere', () => {
    const actions = allStatements().flatMap((statement) => [statement.Action].flat() as string[]);
    expect(actions.length).toBeGreaterThan(10);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('uses Resource "*" only for the EC2 describe calls that have no resource-level permissions', () => {
    const starred = allStatements().filter((statement) => [statement.Resource].flat().includes('*'));
    expect(starred.map((statement) => statement.Action)).toEqual([
      ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
      ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
    ]);
  });

  it('lets the sampler describe exactly the configured clusters and publish only our source to our bus', () => {
    const statements = statementsOf('SamplerRole');
    expect(statements).toContainEqual({
      Sid: 'DescribeWatchedClusters',
      Effect: 'Allow',
      Action: 'eks:DescribeCluster',
      Resource: CLUSTERS.map((name) => `arn:aws:eks:${REGION}:${ACCOUNT}:cluster/${name}`),
    });
    expect(statements).toContainEqual({
      Sid: 'PublishWatcherEvents',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: getAtt('EventsBus', 'AWS::Events::EventBus'),
      Condition: { StringEquals: { 'events:source': 'mesh-cert-watch' } },
    });
  });

  it('keeps each table to its writer: the ledger to the sampler, the budget to the remediator, notifications to the notifier', () => {
    const ledger = resourceByPrefix(template, 'AWS::DynamoDB::Table', 'StateLedger').id;
    const budget = resourceByPrefix(template, 'AWS::DynamoDB::Table', 'StateRestartBudget').id;
    const sampler = JSON.stringify(statementsOf('SamplerRole'));
    const remediator = JSON.stringify(statementsOf('RemediatorRole'));
    const notifications = resourceByPrefix(template, 'AWS::DynamoDB::Table', 'StateNotifications').id;
    const notifier = JSON.stringify(statementsOf('NotifierRole'));
    expect([sampler.includes(ledger), sampler.includes(budget), sampler.includes(notifications)]).toEqual([true, false, false]);
    expect([remediator.includes(ledger), remediator.includes(budget), remediator.includes(notifications)]).toEqual([false, true, false]);
    expect([notifier.includes(ledger), notifier.includes(budget), notifier.includes(notifications)]).toEqual([false, false, true]);
    expect(statementsOf('SamplerRole').find((statement) => JSON.stringify(statement.Resource).includes(ledger))?.Action).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets only the notifier read the destinations\' secrets (Slack webhooks, PagerDuty routing key), by name with the 6-character suffix', () => {
    const reads = statementsOf('NotifierRole').filter((statement) => statement.Action === 'secretsmanager:GetSecretValue');
    expect(reads.map((statement) => statement.Resource)).toEqual([
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:mesh-cert-watch/slack-webhook-??????`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:mesh-cert-watch/slack-webhook-payments-??????`,
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:mesh-cert-watch/pagerduty-routing-key-??????`,
    ]);
    for (const role of ['SamplerRole', 'RemediatorRole', 'SchedulesInvokeRole']) {
      expect(JSON.stringify(statementsOf(role))).not.toContain('secretsmanager');
    }
  });

  it('gives the functions in a VPC the ENI permissions, scoped to the configured subnets and security groups', () => {
    expect(statementsOf('SamplerRole')).toContainEqual({
      Sid: 'CreateFunctionNetworkInterfaces',
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterface',
      Resource: [
        `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/*`,
        `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-0a1b2c3d4e5f60718`,
        `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-08f7e6d5c4b3a2910`,
        `arn:aws:ec2:${REGION}:${ACCOUNT}:subnet/subnet-0a1b2c3d4e5f60718`,
      ],
    });
    expect(JSON.stringify(statementsOf('NotifierRole'))).not.toContain('ec2:');
  });

  it('attaches no managed policies to any role', () => {
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });
});

describe('EKS access entries', () => {
  it('map the sampler role and the remediator role to separate Kubernetes groups in every cluster', () => {
    const entries = Object.values(resourcesOfType(template, 'AWS::EKS::AccessEntry')).map((entry) => entry.Properties);
    const samplerRole = getAtt('SamplerRole', 'AWS::IAM::Role');
    const remediatorRole = getAtt('RemediatorRole', 'AWS::IAM::Role');
    const expected = CLUSTERS.flatMap((clusterName) => [
      { ClusterName: clusterName, PrincipalArn: samplerRole, KubernetesGroups: [KUBERNETES_GROUPS.sampler], Type: 'STANDARD' },
      { ClusterName: clusterName, PrincipalArn: remediatorRole, KubernetesGroups: [KUBERNETES_GROUPS.remediator], Type: 'STANDARD' },
    ]);
    expect(entries.map(({ Tags: _tags, ...entry }) => entry)).toEqual(expected);
  });
});

describe('monitoring alarms (the dashboard: test/cdk/dashboard.test.ts)', () => {
  it('alarms on any expired pod, per cluster', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mesh-cert-watch-prod-eu-1-expired-pods',
      Namespace: METRICS_NAMESPACE,
      MetricName: SAMPLER_METRICS.podsExpired,
      Dimensions: [{ Name: 'Cluster', Value: 'prod-eu-1' }],
      Statistic: 'Maximum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms when the share of pods that could not be sampled (unreachable) exceeds the configured share', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mesh-cert-watch-staging-eu-1-sampling-errors',
      Threshold: 0.2,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(sampled > 0, unreachable / sampled, 0)' }),
        Match.objectLike({ Id: 'unreachable', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'PodsUnreachable' }), Period: 600 }) }),
        Match.objectLike({ Id: 'sampled', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'PodsSampled' }), Period: 600 }) }),
      ]),
    });
  });

  it('alarms when no sweep of a cluster produced a report for 3 intervals, counting silence as breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mesh-cert-watch-staging-eu-1-sweeps-missing',
      MetricName: SAMPLER_METRICS.podsSampled,
      Statistic: 'SampleCount',
      Period: 600,
      EvaluationPeriods: 3,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  it('alarms when any dead-letter queue is not empty', () => {
    for (const [component, prefix] of [
      ['sampler', 'DeadLettersSampler'],
      ['remediator', 'DeadLettersRemediator'],
      ['notifications', 'DeadLettersNotifications'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `mesh-cert-watch-${component}-dead-letters`,
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: getAtt(prefix, 'AWS::SQS::Queue', 'QueueName') }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it("alarms on the breaker's own condition: more than breakerUnhealthyShare of the sampled pods not healthy, at least 2", () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'mesh-cert-watch-prod-eu-1-breaker-open',
      Threshold: 0.5,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(sampled > 0 AND sampled - healthy >= 2, (sampled - healthy) / sampled, 0)' }),
        Match.objectLike({ Id: 'healthy', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'PodsHealthy' }), Period: 300 }) }),
      ]),
    });
  });

  it("reads only the metrics the cost model bills: the sampler's seven, six alarm metrics per cluster", () => {
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties);
    const custom = new Set<string>();
    for (const cluster of CLUSTERS) {
      const own = alarms.filter((alarm) => String(alarm.AlarmName).includes(`-${cluster}-`));
      const metricCount = own.reduce((n, alarm) => n + (alarm.MetricName ? 1 : (alarm.Metrics as Array<{ MetricStat?: unknown }>).filter((m) => m.MetricStat).length), 0);
      expect(metricCount).toBe(ALARM_METRICS_PER_CLUSTER);
    }
    for (const alarm of alarms) {
      if (alarm.Namespace === METRICS_NAMESPACE) custom.add(String(alarm.MetricName));
      for (const m of (alarm.Metrics as Array<{ MetricStat?: { Metric: { Namespace: string; MetricName: string } } }> | undefined) ?? []) {
        if (m.MetricStat?.Metric.Namespace === METRICS_NAMESPACE) custom.add(m.MetricStat.Metric.MetricName);
      }
    }
    for (const name of custom) expect(Object.values(SAMPLER_METRICS)).toContain(name);
  });

  it('alarms on errors and throttles of each of the three functions, shown on the dashboard', () => {
    const body = renderWithPlaceholders(resourceByPrefix(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard').Properties.DashboardBody);
    for (const component of ['Sampler', 'Remediator', 'Notifier'] as const) {
      const name = { Ref: resourceByPrefix(template, 'AWS::Lambda::Function', `${component}Function`).id };
      for (const [metric, suffix] of [
        ['Errors', 'errors'],
        ['Throttles', 'throttles'],
      ] as const) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          AlarmName: `mesh-cert-watch-${component.toLowerCase()}-${suffix}`,
          Namespace: 'AWS/Lambda',
          MetricName: metric,
          Dimensions: [{ Name: 'FunctionName', Value: name }],
          Statistic: 'Sum',
          Period: 300,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
    }
    // The dashboard's alarm widget lists every alarm, these six included.
    const widgets = (JSON.parse(body) as { widgets: Array<{ properties: { title?: string; alarms?: unknown[] } }> }).widgets;
    const alarmWidget = widgets.find((widget) => widget.properties.title === 'Alarms')!;
    expect(alarmWidget.properties.alarms).toHaveLength(Object.keys(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).length);
    expect(alarmWidget.properties.alarms).toHaveLength(4 * 2 + 3 + 3 * 2);
  });

  it('sends every alarm and its recovery to the created, KMS-encrypted SNS topic', () => {
    const topic = ref('MonitoringAlarmTopic', 'AWS::SNS::Topic');
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(4 * 2 + 3 + 3 * 2);
    for (const alarm of alarms) expect([alarm.Properties.AlarmActions, alarm.Properties.OKActions]).toEqual([[topic], [topic]]);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: getAtt('MonitoringAlarmTopicKey', 'AWS::KMS::Key') });
    // CloudWatch cannot publish to a topic whose key does not let it encrypt.
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'platform-oncall@example.com' });
  });
});

describe('reserved concurrency', () => {
  it('caps the sampler at one sweep per cluster, the remediator at 5 and the notifier at its SQS concurrency of 2', () => {
    expect(functionProps('Sampler').ReservedConcurrentExecutions).toBe(CLUSTERS.length);
    expect(functionProps('Remediator').ReservedConcurrentExecutions).toBe(5);
    expect(functionProps('Notifier').ReservedConcurrentExecutions).toBe(2);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
  });

  it('takes configured values, and false reserves nothing (accounts with a small concurrency quota)', () => {
    const { template: custom } = synthesize({
      ...minimalConfigInput(),
      functions: { sampler: { reservedConcurrency: false }, remediator: { reservedConcurrency: 2 } },
    });
    const props = (component: string) => resourceByPrefix(custom, 'AWS::Lambda::Function', `${component}Function`).Properties;
    expect(props('Sampler').ReservedConcurrentExecutions).toBeUndefined();
    expect(props('Remediator').ReservedConcurrentExecutions).toBe(2);
    expect(props('Notifier').ReservedConcurrentExecutions).toBe(2);
  });
});

describe('variants', () => {
  let minimal: Template;
  beforeAll(() => {
    ({ template: minimal } = synthesize(minimalConfigInput()));
  });

  it('without a vpc setting, no function is placed in a VPC and no role gets EC2 permissions', () => {
    for (const fn of Object.values(resourcesOfType(minimal, 'AWS::Lambda::Function'))) expect(fn.Properties.VpcConfig).toBeUndefined();
    expect(JSON.stringify(minimal.findResources('AWS::IAM::Policy'))).not.toContain('ec2:');
  });

  it('without an alarm topic, alarms have no actions and no topic is created', () => {
    minimal.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(resourcesOfType(minimal, 'AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('an existing topic ARN receives the alarms', () => {
    const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:platform-alarms`;
    const { template: withTopic } = synthesize({ ...minimalConfigInput(), alarms: { topic: { existingTopicArn: topicArn } } });
    withTopic.resourceCountIs('AWS::SNS::Topic', 0);
    withTopic.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [topicArn], OKActions: [topicArn] });
  });

  it('a complete secret ARN is read by that exact ARN', () => {
    const secretArn = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:slack/webhook-AbC123`;
    const { template: withArn } = synthesize({ ...minimalConfigInput(), notifications: { slackWebhookSecret: secretArn } });
    withArn.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'secretsmanager:GetSecretValue', Resource: secretArn })]) },
    });
  });

  it('the notifier may read each destination\'s secret, Slack and PagerDuty, and nothing else may', () => {
    const statements = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap(
      (policy) => (policy.Properties.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] }).Statement,
    );
    const reads = statements.filter((s) => s.Action === 'secretsmanager:GetSecretValue');
    expect(reads.map((s) => s.Sid).sort()).toEqual(['ReadPagerDutyRoutingKey2', 'ReadSlackWebhook0', 'ReadSlackWebhook1']);
    expect(JSON.stringify(reads.find((s) => s.Sid === 'ReadPagerDutyRoutingKey2')!.Resource)).toContain('secret:mesh-cert-watch/pagerduty-routing-key-??????');
  });

  it('keeps the older Slack settings working: slackWebhookSecret and per-namespace webhooks become Slack destinations', () => {
    const { template: legacy } = synthesize({
      ...minimalConfigInput(),
      notifications: { slackWebhookSecret: 'slack/webhook', namespaceSlackWebhookSecrets: { payments: 'slack/payments' } },
    });
    const notifier = resourceByPrefix(legacy, 'AWS::Lambda::Function', 'NotifierFunction').Properties;
    const config = JSON.parse(renderWithPlaceholders((notifier.Environment as { Variables: Record<string, unknown> }).Variables[RUNTIME_CONFIG_ENV])) as { destinations: unknown };
    expect(config.destinations).toEqual([
      { channel: 'slack', secretId: 'slack/webhook', minimumSeverity: 'stale' },
      { channel: 'slack', secretId: 'slack/payments', namespaces: ['payments'], minimumSeverity: 'stale' },
    ]);
  });

  it('a customer-managed secrets key can be used by the notifier, only through Secrets Manager', () => {
    const keyArn = `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b1f2e3d-4c5b-4a69-8877-665544332211`;
    const { template: withKey } = synthesize({ ...minimalConfigInput(), notifications: { slackWebhookSecret: 'slack/webhook', secretsKmsKeyArn: keyArn } });
    withKey.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${REGION}.amazonaws.com` } } }),
        ]),
      },
    });
  });

  it('a cluster with accessEntries false gets no access entries', () => {
    const input = minimalConfigInput();
    const { template: manual } = synthesize({ ...input, clusters: [{ name: 'managed' }, { name: 'manual', accessEntries: false }] });
    const clusters = Object.values(resourcesOfType(manual, 'AWS::EKS::AccessEntry')).map((entry) => entry.Properties.ClusterName);
    expect(clusters).toEqual(['managed', 'managed']);
  });

  it('an account-agnostic deployment uses AWS::AccountId instead of an account number', () => {
    const json = JSON.stringify(minimal.toJSON());
    expect(json).toContain('AWS::AccountId');
    expect(json).not.toContain(ACCOUNT);
  });

  it('a configuration too large for the Lambda environment fails naming the clusters setting', () => {
    const clusters = Array.from({ length: 20 }, (_, index) => ({
      name: `cluster-with-a-rather-long-name-${String(index).padStart(2, '0')}`,
      namespaces: { exclude: ['kube-system', 'istio-system', 'monitoring', 'logging', 'cert-manager'] },
    }));
    expect(() => synthesize({ ...minimalConfigInput(), clusters })).toThrow(ConfigError);
    expect(() => synthesize({ ...minimalConfigInput(), clusters })).toThrow(/^clusters: mesh-cert-watch-sampler's configuration needs about \d+ bytes/);
  });
});
