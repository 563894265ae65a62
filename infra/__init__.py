"""Deployment infrastructure: the CloudFormation merged into `chalice package`'s SAM template.

`infra.template` builds the resources (table, bucket, queues + dead-letter queues) from the
settings of a stage; `devstack.resources` creates the very same resources on a local emulator.
"""
