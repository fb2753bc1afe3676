# Builds the one jitflow binary; `server` and `worker` run from the same image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOTOOLCHAIN=local go build -trimpath -ldflags="-s -w" -o /out/jitflow ./cmd/jitflow

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/jitflow /usr/local/bin/jitflow
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/jitflow"]
