"""The git layer of ``gate diff``: refs, merge-bases, changes, commits and trees.

Everything is read from git objects, the index and the working tree; nothing here
changes the repository (no checkout, no stash, no index write, not even the stat
refresh ``git diff`` and ``git status`` write back). So only plumbing commands
run (``rev-parse``, ``merge-base``, ``diff-tree``, ``diff-index``, ``ls-tree``,
``ls-files``, ``hash-object`` without ``-w``, ``log``, ``rev-list``), with
``--no-optional-locks``, and file contents come from one persistent
``git cat-file --batch`` process.

User input reaches git in exactly one place, :meth:`~gate.git.refs.RefReader.resolve`,
after validation and behind ``--end-of-options``; every later command gets full SHAs,
and paths only ever follow ``--``.

Modules, each a reader of one concern over :class:`~gate.git.runner.GitRunner`, all
joined in :class:`~gate.git.repository.Repository`:

- :mod:`gate.git.runner`: GitPython imported safely, running git, ``GitError``;
- :mod:`gate.git.refs`: refs resolved to commits, tags, merge-bases;
- :mod:`gate.git.trees`: ``GitTree`` and ``IndexTree``, trees read from git objects;
- :mod:`gate.git.diffs`: what a range, the index or the working tree changes;
- :mod:`gate.git.commits`: commits, their trailers and parents;
- :mod:`gate.git.signatures`: what verifying a commit signature may run and read;
- :mod:`gate.git.repository`: ``open_repository`` and ``Repository``.
"""
