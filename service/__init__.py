"""ClusterMatch service layer: the HTTP API by domain, persistence, the matching engine,
background jobs and the command line. Process settings live in `service.runtime`."""
