"""Build OCI images from a Dockerfile subset without a container runtime, and push them (the `az acr build` step)."""
