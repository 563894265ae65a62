"""The local stack behind `make run` and the tests: an AWS emulator, the resources from
`infra`, `chalice local`, the event pump that plays Lambda for queues and schedules, and the
demo seed."""
