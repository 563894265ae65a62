"""What Helptal promises about its customers' data, enforced: the public sub-processor list
and its changelog, 30-day change notices, objections with termination and refund,
data-subject export and erasure, retention, and where content is stored."""
