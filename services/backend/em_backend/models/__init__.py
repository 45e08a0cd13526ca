"""API models (`XCreate`, `XUpdate`, `XPublic`), as in the full-stack template."""
