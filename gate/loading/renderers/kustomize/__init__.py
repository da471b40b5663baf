"""Kustomize: render an overlay the way ``kubectl kustomize`` (kustomize v5.5) does.

The built-in renderer reads every file through a :class:`~gate.loading.trees.FileTree`
(so a git revision renders without a checkout) and records, for each rendered
resource, the document it started from and which kustomization or patch line
last set each field it changed (provenance). What it does not implement is an
error naming the field, never a silently different rendering; docs/kustomize.md
lists what is supported. A real kustomize (or kubectl) renders instead with
``--kustomize=binary``.

Modules, in the order a build uses them:

- :mod:`.renderer`: the entry point (``MODES``, :func:`~.renderer.render`): built
  in, with a binary, or either;
- :mod:`.builder`: one built-in build, resources, components, generators and
  transformers in kustomize's order (:func:`~.builder.render_builtin`);
- :mod:`.schema` and :mod:`.loading`: a kustomization's fields and their shapes;
  reading and validating the file;
- :mod:`.reading`: the paths a kustomization names and the resources in them;
- :mod:`.resources`: resources being rendered and their ids;
- :mod:`.field_specs`: where transformers write (kustomize's built-in field specs);
- :mod:`.selectors`: which resources a patch target selects;
- :mod:`.generators`: configMapGenerator and secretGenerator;
- :mod:`.patches`, with :mod:`.strategic_merge`, :mod:`.json6902` and
  :mod:`.provenance`: patches, and which line set each field;
- :mod:`.transformers`: namespace, name prefix and suffix, labels, annotations,
  replicas; :mod:`.images`: images (and Argo CD's image overrides);
- :mod:`.replacements` and :mod:`.plugins`: ``replacements:``, and the builtin
  plugin configs of ``transformers:`` and ``generators:``;
- :mod:`.name_references` and :mod:`.output`: the end of a top-level build
  (content hashes, name references, output order);
- :mod:`.inputs`: what a kustomization reads, without rendering it (planning);
  :mod:`.binary`: rendering with a real kustomize or kubectl.
"""
