"""`python -m auditpack`, the same as the `auditpack` command."""

from auditpack.cli import main

main()
