"""The auditpack commands, one module per group; shared.py holds what they share (options, exit codes, inputs)."""
