"""Deploying the built image to Kubernetes."""
