"""The `em` command: entry points of every process plus the ops commands."""
