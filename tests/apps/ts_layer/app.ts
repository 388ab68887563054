// A TypeScript CDK app (run by Node 24 directly: it strips the types, no compile step).
// Base: Consumer uses Producer's layer object (an automatic export). Head: Producer exports
// the ARN under a hand-made name and Consumer imports that name instead, so CDK drops the
// automatic export while the deployed Consumer still imports it.
// Expected: export-removed-in-use (blocker) and new-reference-order (notice); the fix keeps
// the automatic export one release with `this.exportValue(this.layer.layerVersionArn)`.
import * as path from 'node:path';
import { App, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

const HERE = import.meta.dirname;
const ENV = { account: '123456789012', region: 'us-east-1' };
const INLINE = 'exports.handler = async () => ({});';

const app = new App();
const variant = app.node.tryGetContext('variant') ?? 'base';
if (variant !== 'base' && variant !== 'head') {
  throw new Error(`context variant must be base or head, got ${variant}`);
}

class ProducerStack extends Stack {
  readonly layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.layer = new lambda.LayerVersion(this, 'SharedLayer', {
      code: lambda.Code.fromAsset(path.join(HERE, 'layers', 'shared')),
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
    });
    if (variant === 'head') {
      new CfnOutput(this, 'SharedLayerArn', { value: this.layer.layerVersionArn, exportName: 'ts-shared-layer-arn' });
    }
  }
}

interface ConsumerProps extends StackProps {
  readonly producer: ProducerStack;
}

class ConsumerStack extends Stack {
  constructor(scope: Construct, id: string, props: ConsumerProps) {
    super(scope, id, props);
    const layer = variant === 'head'
      ? lambda.LayerVersion.fromLayerVersionArn(this, 'Shared', Fn.importValue('ts-shared-layer-arn'))
      : props.producer.layer;
    new lambda.Function(this, 'Worker', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(INLINE),
      layers: [layer],
    });
  }
}

const producer = new ProducerStack(app, 'Producer', { env: ENV });
const consumer = new ConsumerStack(app, 'Consumer', { env: ENV, producer });
consumer.addDependency(producer); // an import by name creates no dependency by itself
app.synth();
