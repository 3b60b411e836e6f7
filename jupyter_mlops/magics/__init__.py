"""The `%component` / `%pipeline` magics and the `%pipeline` run subcommands."""
