"""DynamoDB (pynamodb) models and repositories, and the S3/SQS adapters."""
