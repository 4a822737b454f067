"""The reliability and security harness: faults, contention, bad input, tenant isolation, secrets — with figures."""
