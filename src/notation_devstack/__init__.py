"""Offline stand-ins for the tutorial: an OCI registry, an Azure Key Vault emulator, image build, up/down."""
