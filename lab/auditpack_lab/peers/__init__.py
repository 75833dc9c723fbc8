"""Real protocol peers the tests start on loopback addresses (never any other address)."""
