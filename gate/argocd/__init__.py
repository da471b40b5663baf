"""Argo CD discovery (package being split)."""
