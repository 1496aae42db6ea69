"""The REST API (`/api/v1/`): short views over the same services, scopes and consent policy
as the pages, one module per resource. Every read of client data is audited (one event per
list)."""
