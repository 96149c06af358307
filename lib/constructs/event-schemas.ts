import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { DETAIL_TYPES, type DetailType } from '../../src/core/events/events.js';
import { eventSchema, schemaName } from '../event-schema-content.js';

export interface EventSchemasProps {
  /** Registry name (the deployment name). */
  readonly registryName: string;
}

/**
 * Publishes the JSON schema of every detail-type to an EventBridge schema registry, so
 * consumers can browse them and generate code bindings (`mesh-cert-watch@SweepCompleted`...).
 */
export class EventSchemas extends Construct {
  readonly registry: eventschemas.CfnRegistry;
  readonly schemas: ReadonlyMap<DetailType, eventschemas.CfnSchema>;

  constructor(scope: Construct, id: string, props: EventSchemasProps) {
    super(scope, id);
    this.registry = new eventschemas.CfnRegistry(this, 'Registry', {
      registryName: props.registryName,
      description: 'Events published by mesh-cert-watch (source mesh-cert-watch)',
    });
    const schemas = new Map<DetailType, eventschemas.CfnSchema>();
    for (const detailType of DETAIL_TYPES) {
      schemas.set(
        detailType,
        new eventschemas.CfnSchema(this, detailType.replace(/\s+/g, ''), {
          registryName: this.registry.attrRegistryName,
          schemaName: schemaName(detailType),
          type: 'JSONSchemaDraft4',
          description: `mesh-cert-watch "${detailType}" event`,
          content: JSON.stringify(eventSchema(detailType)),
        }),
      );
    }
    this.schemas = schemas;
  }
}
