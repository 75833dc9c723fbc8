"""How collectors reach a host (SSH, WinRM, LDAP): connections and sending, no knowledge of what is asked or what it means."""
