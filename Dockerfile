# The pipe's image: Node 24 and the built program, nothing else.
#
# Build it from an already-built dist/ (`npm ci && npm run build` first; the context is the
# repository, narrowed by .dockerignore):
#
#   docker build --build-arg VERSION="$(node -p 'require("./package.json").version')" \
#                --build-arg REVISION="$(git rev-parse HEAD)" -t bitbucket-aws-oidc:dev .
#
# The published name (bbawsoidc/bitbucket-aws-oidc on Docker Hub) is pipe.yml's `image:`; the labels
# below name the same namespace and repository (test/release.test.ts keeps them in step).
#
# Base: Google's distroless Node.js 24 on Debian 12, chosen over node:24-bookworm-slim and
# node:24-alpine:
# - size: Node and the C/C++ runtime libraries, CA certificates and tzdata, no shell, no apt,
#   no npm or yarn. The slim image adds bash, coreutils, dpkg/apt, npm, yarn and corepack that a pipe
#   never runs: tens of megabytes more to pull on every step, and more packages for scanners to flag.
# - glibc: the official Node.js build, the one the Node project tests. Alpine's musl build is a
#   distribution port (DNS resolution and stack sizes differ) and could not be stood in for by the
#   official binary in our tests.
# - updates: Google rebuilds it on every Debian security update and Node.js 24 patch release. We
#   pin one build by digest (BASE_IMAGE below), so that a release is built on exactly the base
#   its tests ran on, and move the pin on purpose: CONTRIBUTING.md, "Updating the base image".
# - no shell: nothing in the container can be told to run a command line. Exec forms only, below.
#   Bitbucket starts a pipe with the image's own entrypoint, so no shell is needed. For a look
#   inside, gcr.io/distroless/nodejs24-debian12:debug has a busybox shell.
# - the default user is root, as Bitbucket runs pipes: the pipe chowns what it writes to the clone
#   directory's owner (see README, "What the pipe writes").
# - amd64 and arm64, so each architecture is built natively (bitbucket-pipelines.yml).
#
# BASE_IMAGE is a global build argument (declared before the first FROM) so that the tests can
# build this same Dockerfile on a local stand-in (--build-arg BASE_IMAGE=...); releases use the
# default. The digest must be the multi-architecture index (amd64 and arm64), not one platform's
# image: each release step pulls it on its own architecture.
ARG BASE_IMAGE=gcr.io/distroless/nodejs24-debian12@sha256:61f4f4341db81820c24ce771b83d202eb6452076f58628cd536cc7d94a10978b
FROM ${BASE_IMAGE}

ARG BASE_IMAGE
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="bitbucket-aws-oidc" \
      org.opencontainers.image.description="Bitbucket Pipe: short-lived AWS credentials for a pipeline step through OpenID Connect, no stored keys" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://bitbucket.org/bbawsoidc/bitbucket-aws-oidc" \
      org.opencontainers.image.url="https://hub.docker.com/r/bbawsoidc/bitbucket-aws-oidc" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="bbawsoidc" \
      org.opencontainers.image.base.name="${BASE_IMAGE}"

# dist/ is self-contained, no node_modules: the launcher (index.js), the program as one script
# (bundle.js), the YAML library only `template` loads (yaml.js) and the code cache's trainer, with
# a package.json marking them CommonJS.
COPY pipe.yml /opt/bitbucket-aws-oidc/
COPY dist/ /opt/bitbucket-aws-oidc/dist/

# The code cache, made now with the Node and the options of the entrypoint below: one whole run
# with verification and a CodeArtifact login for npm, in this build, against a stand-in for STS
# and CodeArtifact on 127.0.0.1 (src/launch/train.ts), then V8's code for every function the run
# compiled, written beside the bundle (dist/bundle.code-cache). Each step then starts from that
# code instead of parsing and compiling the bundle and the functions it calls again: a run takes
# 0.92 x the time it took with Node's compile cache (bench/notes.md). V8 refuses a cache made by
# another Node, with other V8 flags or for a bundle of another length, and then compiles as
# without one; a new dist/ or base gets its cache made here again.
RUN ["/nodejs/bin/node", "--v8-pool-size=1", "/opt/bitbucket-aws-oidc/dist/train-code-cache.js"]

# No WORKDIR: Bitbucket starts the pipe in the step's working directory (--workdir), and the
# pipe resolves OUTPUT_DIR against it. Arguments pass through: `docker run <image> template ...`.
# --v8-pool-size=1 (a documented Node option): one V8 background thread instead of Node's default
# four. A run lasts about a fifth of a second, too short for the other three to pay for starting:
# with it a run takes 0.98 x the time (Node 24 with the compile cache, 41 interleaved pairs, three
# times; bench/notes.md). The RUN above starts Node the same way.
ENTRYPOINT ["/nodejs/bin/node", "--v8-pool-size=1", "/opt/bitbucket-aws-oidc/dist/index.js"]
