"""Trust and secrets: server certificates, keystores, pinned TLS, the OS keyring. No Qt."""
