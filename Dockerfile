# stampede as a static, non-root container image: the CLI only, on
# distroless/static (no shell, no package manager; CA certificates, tzdata
# and a "nonroot" user, 65532, included).
#
#   docker build -t stampede:latest --build-arg VERSION=$(git describe --tags --always) .
#   docker run --rm stampede:latest version
#   docker run --rm -p 8787:8787 stampede:latest serve --addr 0.0.0.0:8787
#   docker run --rm -v "$PWD/out:/out" stampede:latest run --clients 100 --duration 10s --out /out
#
# The Kubernetes manifests in deploy/k8s run it (as a sharded Indexed Job,
# the merge Job and the in-cluster backend).

# --- build -----------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so the layer is reused while only the source changes.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# Static: no cgo, no libc; -trimpath and stripped symbols for a small,
# reproducible binary.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/stampede ./cmd/stampede

# --- run -------------------------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/stampede /usr/local/bin/stampede
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 65532:65532
# stampede serve's default port, for the in-cluster backend.
EXPOSE 8787
ENTRYPOINT ["/usr/local/bin/stampede"]
CMD ["--help"]
