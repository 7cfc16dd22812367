"""`make bench`: the registry's speed at national scale and beyond, measured against the
database's own time for the same work. See docs/performance.md."""
