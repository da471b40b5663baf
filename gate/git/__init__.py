"""Reading git: the repository, its refs, trees, diffs and commits (package being split)."""
