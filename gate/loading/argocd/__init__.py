"""Argo CD discovery: the Applications a repository declares, and the paths each deploys.

Reads ``argoproj.io`` ``Application`` and ``ApplicationSet`` manifests through a
:class:`~gate.loading.trees.FileTree` (a working tree or a git commit) and resolves, as Argo CD
does:

- each source's ``path`` and the tool that renders it: an explicit ``helm``,
  ``kustomize``, ``directory`` or ``plugin`` block, else a kustomization file, else
  ``Chart.yaml``, else a plain directory (``directory.recurse`` defaults to false);
- Helm ``valueFiles``, relative to ``source.path``, or ``$ref/...`` from the root of the
  repository of the ``ref:`` source of a multi-source Application;
- the ``argocd.argoproj.io/manifest-generate-paths`` annotation;
- ApplicationSets: ``git`` (directories and files), ``list`` and ``matrix`` generators
  evaluated against the tree, ``clusters`` ones in part, with legacy ``{{path}}`` or
  ``goTemplate`` templates.

Nothing here raises on a malformed manifest: whatever cannot be used becomes a
:class:`~gate.loading.argocd.model.Note` ``(file, line, message)``; reporting manifest errors is
the manifest check's job. docs/environments.md states the exact rules.

Modules:

- :mod:`gate.loading.argocd.model`: settings, Applications and their sources, deployed paths,
  notes;
- :mod:`gate.loading.argocd.paths`: paths and globs as Argo CD matches them;
- :mod:`gate.loading.argocd.templates`: legacy and ``goTemplate`` templates, Go's printing;
- :mod:`gate.loading.argocd.applications`: Application manifests read, their sources resolved;
- :mod:`gate.loading.argocd.applicationsets`: generators expanded, templates rendered;
- :mod:`gate.loading.argocd.discovery`: :func:`~gate.loading.argocd.discovery.discover` over a tree.
"""
