# syntax=docker/dockerfile:1
#
# Container images of Guardrails, one target per binary:
#   docker build --target operator -t ghcr.io/guardrails-io/guardrails-operator:0.1.0 .
#   docker build --target agent    -t ghcr.io/guardrails-io/guardrails-agent:0.1.0 .
#   docker build --target api      -t ghcr.io/guardrails-io/guardrails-api:0.1.0 .
# The build stage compiles the three release binaries once; each runtime stage copies one into a
# distroless image (glibc and CA certificates, no shell, no package manager) and runs it as the
# non-root user 65532. TLS is rustls, so no OpenSSL is needed at runtime.

ARG RUST_VERSION=1.95
ARG VERSION=0.1.0

FROM docker.io/library/rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
      -p guardrails-operator -p guardrails-agent -p guardrails-api \
 && mkdir -p /out \
 && cp target/release/guardrails-operator target/release/guardrails-agent \
       target/release/guardrails-api /out/

FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG VERSION
LABEL org.opencontainers.image.vendor="Guardrails" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/guardrails-io/guardrails" \
      org.opencontainers.image.version="${VERSION}"
USER 65532:65532

FROM runtime AS operator
LABEL org.opencontainers.image.title="guardrails-operator" \
      org.opencontainers.image.description="Guardrails operator: reconciles AnalysisTasks into PII analysis results"
COPY --from=build /out/guardrails-operator /usr/local/bin/guardrails-operator
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/guardrails-operator"]

FROM runtime AS agent
LABEL org.opencontainers.image.title="guardrails-agent" \
      org.opencontainers.image.description="Guardrails agent: delivers signed webhooks of finished AnalysisTasks"
COPY --from=build /out/guardrails-agent /usr/local/bin/guardrails-agent
EXPOSE 8081
ENTRYPOINT ["/usr/local/bin/guardrails-agent"]

FROM runtime AS api
LABEL org.opencontainers.image.title="guardrails-api" \
      org.opencontainers.image.description="Guardrails REST API: submits and reads AnalysisTasks"
COPY --from=build /out/guardrails-api /usr/local/bin/guardrails-api
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/guardrails-api"]
