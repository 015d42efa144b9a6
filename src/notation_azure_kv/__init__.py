"""The ``azure-kv`` Notation plugin: signs with keys kept in Azure Key Vault (plugin protocol side + Azure SDK)."""
