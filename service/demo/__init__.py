"""The demo corpus and its loader (`seed`), for `clustermatch demo`."""
