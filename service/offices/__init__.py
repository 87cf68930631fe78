"""Offices (tenancy): an admin moves a profile, an event or a programme to another cluster
office. Who belongs to which office is service.auth's (keys) and service.accounts' (users);
what an office's organizers may do is service.profiles', service.events' and
service.reports'."""
