"""The audit log: who wrote what, when and from where (service.audit.middleware records,
service.audit.routes lets admins read; nothing updates or deletes an entry)."""
