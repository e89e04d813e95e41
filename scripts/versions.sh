# Pinned versions of the backing servers the local stack installs (see scripts/stack.sh).
FERRETDB_VERSION=v1.24.2
ELASTICSEARCH_VERSION=8.15.5
