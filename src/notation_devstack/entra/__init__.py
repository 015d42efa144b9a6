"""An Entra ID (Azure AD) authority stand-in: OpenID metadata, user realm, and the token endpoint's grants
(password and refresh token for ``az login``, client secret / assertion, managed identity). Its access tokens are
the Key Vault emulator's own RS256 JWTs (same signing key), so the vault, ARM, Graph and the registry accept them."""
