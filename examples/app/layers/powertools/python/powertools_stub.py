"""Stand-in for AWS Lambda Powertools."""

VERSION = "3.0.0"
