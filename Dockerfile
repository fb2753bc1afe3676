# One image for `jitflow server` and `jitflow worker` (the command picks).
# Build: docker build -t jitflow:local .
#
# Stage 1 compiles a static binary with the Go version of go.mod: the
# production build (-tags production), which has no embedded Temporal
# server, Web UI, emulators, dev token issuer or benchmark.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
ENV GOTOOLCHAIN=local CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -tags production -trimpath -ldflags="-s -w" -o /out/jitflow ./cmd/jitflow \
 && mkdir -p /out/var/lib/jitflow

# Stage 2 is distroless: no shell, no package manager, only the binary, CA
# certificates (for Graph, Entra ID, Temporal Cloud) and tzdata. It runs as
# the unprivileged nonroot user (65532), which owns the data directory that
# a volume mounted there starts from.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jitflow /usr/local/bin/jitflow
COPY --from=build --chown=65532:65532 /out/var/lib/jitflow /var/lib/jitflow
USER 65532:65532
EXPOSE 8080 9464
ENTRYPOINT ["/usr/local/bin/jitflow"]
CMD ["--help"]
