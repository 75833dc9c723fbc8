"""The demo lab: a fictitious contact centre built from real peers on loopback addresses.

`auditpack lab up` starts it, `auditpack demo` audits it end to end. The peers in
`peers/` are the same servers the test suite runs against.
"""
