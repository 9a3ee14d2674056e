"""The claims as pytest tests (one module per claim), packaged so that `icl-claims run` finds
them in an installed wheel as in a checkout (`icl_core.cli.run_cmd.claims_dir`)."""
