# The committed CI files (.github/workflows/ci.yml, .gitlab-ci.yml, Jenkinsfile) must be exactly
# what `noxops ci generate` makes from [tool.noxops.ci]; on drift this fails with a diff. The
# same for the example project's committed files.
.venv/bin/noxops ci check
.venv/bin/noxops ci check --root examples/service
