"""The sending domain of the code location: the send job, the queue sensor, the instance's concurrency limits."""
