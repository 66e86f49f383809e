# The committed CI files (.github/workflows/ci.yml, .gitlab-ci.yml, Jenkinsfile) must be exactly
# what `noxops ci generate` makes from [tool.noxops.ci]; on drift this fails with a diff.
.venv/bin/noxops ci check
