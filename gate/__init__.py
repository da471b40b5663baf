"""gate: a policy-as-code compliance gate for GitOps manifest repositories."""
from __future__ import annotations

__version__ = "0.1.0"
