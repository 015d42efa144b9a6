"""Microsoft Graph's ``me`` and ``directoryObjects/getByIds`` (what ``az ad signed-in-user show`` and
``az role assignment create --assignee <object id>`` call), over the authority's directory."""
