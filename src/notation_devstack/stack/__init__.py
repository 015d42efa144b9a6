"""`notation-devstack up/down/status/env-file`: the Key Vault emulator and the registry as background services."""
