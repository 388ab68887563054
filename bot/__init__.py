"""cdk-export-guard: find the CloudFormation cross-stack exports a CDK change will break."""

__version__ = "0.1.0"
