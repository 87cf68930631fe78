"""Outcomes of an event's meetings: what each side recorded right after a meeting, the
follow-up rounds months later, their spreadsheet, and who may see and write which."""
