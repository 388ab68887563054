// A TypeScript app shaped like a real one (jumic/cdk-lambda-shared-python-code at 628f2bd):
// Windows line endings (CRLF), no newline at the end of the file, no app.synth() (the App
// synthesizes on exit under the CLI), and two consumer stacks created without a variable,
// each a class of its own that puts the producer's layer (passed in props) on a function.
// Head changes the layer's contents: export-value-change-in-use (blocker). Plans that
// declare the consumers' dependency name them and edit the file's last line.
import * as path from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
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

class LayerStack extends Stack {
  layer: lambda.LayerVersion;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.layer = new lambda.LayerVersion(this, 'SharedLayer', {
      compatibleRuntimes: [lambda.Runtime.NODEJS_22_X],
      code: lambda.Code.fromAsset(path.join(HERE, 'layers', 'shared', variant)),
    });
  }
}

interface ComponentProps extends StackProps {
  layer: lambda.LayerVersion;
}

class Component1Stack extends Stack {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id, props);

    new lambda.Function(this, 'Function1', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(INLINE),
      layers: [
        props.layer,
      ]
    });
  }
}

class Component2Stack extends Stack {
  constructor(scope: Construct, id: string, props: ComponentProps) {
    super(scope, id, props);

    new lambda.Function(this, 'Function2', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline(INLINE),
      layers: [
        props.layer,
      ]
    });
  }
}

const layerStack = new LayerStack(app, 'LayerStack', { env: ENV });

new Component1Stack(app, 'Component1Stack', {
  env: ENV,
  layer: layerStack.layer,
});

new Component2Stack(app, 'Component2Stack', {
  env: ENV,
  layer: layerStack.layer,
});