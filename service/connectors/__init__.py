"""Built-in connectors over HTTP and the CLI: published lists in, merged; profile exports out."""
