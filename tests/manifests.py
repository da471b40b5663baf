"""Small manifests that several test modules share."""
from __future__ import annotations

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels:
    app.kubernetes.io/name: settings
data:
  mode: fast
"""

# What makes a container and its pod pass the whole built-in pack (the Pod Security
# Standards, probes, a read-only root file system, no service account token), appended
# after a pod's only container, so the lines above keep their numbers.
HARDENED = """\
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: {drop: [ALL]}
      livenessProbe: {httpGet: {path: /healthz, port: 8080}}
      readinessProbe: {httpGet: {path: /ready, port: 8080}}
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
"""

# no-latest-tag (high, block) fails at line 10; image-digest (warn) warns there too. Every
# other built-in policy passes it (the Restricted Pod Security Standard, probes, a read-only
# root file system, no service account token), so those two are its only findings.
POD_LATEST = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app.kubernetes.io/name: web
spec:
  containers:
    - name: web
      image: nginx:latest
      resources:
        requests: {cpu: 100m, memory: 64Mi}
        limits: {cpu: 200m, memory: 128Mi}
""" + HARDENED

# A compliant Deployment whose image a Kustomize overlay's ``images:`` retags.
WEB_DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  template:
    metadata: {labels: {app.kubernetes.io/name: web}}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:1.0.0
          resources:
            requests: {cpu: 100m, memory: 64Mi}
            limits: {cpu: 200m, memory: 128Mi}
"""
