"""Pure market rules: no I/O, no clocks, no settings; callers pass plain values in."""
