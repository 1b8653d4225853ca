"""The tamper-evident audit trail: the hash chain over audited rows, its seal and its check."""
