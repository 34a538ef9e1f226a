"""lambdadeploy: declarative, safe deploys of Python AWS Lambda functions."""

__version__ = "0.1.0"
