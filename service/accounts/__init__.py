"""Console accounts: users, passwords, one-time password links, sessions, sign-in
throttling. The functions are in `service.accounts.service`; `passwords` hashes and checks
passwords; `cli` is `clustermatch users`. (Nothing is imported here, so that the command
line's import of `cli` stays light.)"""
