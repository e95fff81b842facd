"""Partner Connect, Databricks side: the wire contract, the partner client, provisioning and flows."""
