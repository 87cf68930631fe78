"""What several test modules share, imported from here rather than from each other.

- `env`: where the repository, the demo corpus and ../shared are; `need_shared`.
- `db`: the test databases: `sessions_for`, and `postgres_schema` (a schema per test,
  dropped afterwards).
- `app`: a running app for HTTP tests (`start_api`, `Api`) and test `Settings`.
- `jobs`: waiting for a background job through GET /v1/jobs/{id}.
- `samples`: the five sample profiles most service tests load.
- `worlds`: synthetic worlds: topic communities with project history, ranking toys.
- `events`: event builders and an independent checker of a schedule's hard rules.

conftest.py holds the fixtures; this package holds plain functions and data.
"""
