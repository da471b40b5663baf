"""Releases: tags of the manifest repository that align certified microservice versions.

An image tag is not a release. A release is a tag on this repository (``v1.0.0``) whose
tree deploys one version of each microservice to each environment; production runs
only versions its certifying environment (staging) ran. This package reads what each
environment deploys at a tree (:mod:`gate.governance.releases.versions`), the release tags of a
repository (:mod:`gate.governance.releases.tags`), and the ``releases:`` settings of ``.gate.yaml``
(:mod:`gate.governance.releases.settings`). docs/releases.md has the rules.
"""
