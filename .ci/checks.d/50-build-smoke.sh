# The repository's own release stages: the noxops wheel and sdist, the runner image (from the
# wheelhouse, offline), its SBOM and build manifest; then the image's smoke tests (nox -l and
# lint on a fixture project inside it). The engine comes from setup.d/30-container-engine.sh.
.venv/bin/nox -s build smoke
