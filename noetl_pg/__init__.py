"""noetl-pg: the NoETL control plane around PostgreSQL."""
