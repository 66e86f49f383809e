# Trust the machine's CA bundle in every client the tests start (uv, pip, requests), also
# where a TLS-intercepting proxy stands between this machine and the package indexes and the
# environment does not already say so. Harmless elsewhere: it is the system's own bundle.
if [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  export SSL_CERT_FILE="${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
  export REQUESTS_CA_BUNDLE="${REQUESTS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
  export PIP_CERT="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"
fi
