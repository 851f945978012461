# kustomerge in a container, for runners that work with images (GitLab,
# Tekton, Argo Workflows): the static musl binary plus git, run as a
# non-root user. Built from a published release, checked against its
# SHA256SUMS; nothing is compiled here.
#
#   docker build --build-arg VERSION=0.1.0 -t kustomerge:0.1.0 .
#   docker run --rm -v "$PWD:/work" -w /work kustomerge:0.1.0 check
#
# Limits: linux/amd64 and linux/arm64 only (the release's musl binaries);
# git only (no ssh client: push over HTTPS with a token in the remote URL
# or a credential helper, or extend the image with openssh-client); the
# merge driver is registered in the image user's global config, so a
# repository mounted from the host still needs `.gitattributes` selecting
# it (`kustomerge install --local` once, committed); a mounted repository
# owned by another uid needs `git config --global --add safe.directory`.
ARG ALPINE=alpine:3.20

FROM ${ALPINE} AS download
ARG VERSION
ARG BASE_URL=https://github.com/kustomerge/kustomerge/releases/download
ARG TARGETARCH
RUN test -n "$VERSION" || { echo "pass --build-arg VERSION=X.Y.Z"; exit 1; }
RUN apk add --no-cache curl
WORKDIR /dl
RUN case "$TARGETARCH" in \
        amd64 | "") target=x86_64-unknown-linux-musl ;; \
        arm64) target=aarch64-unknown-linux-musl ;; \
        *) echo "no kustomerge binary for $TARGETARCH"; exit 1 ;; \
    esac \
    && asset="kustomerge-$VERSION-$target.tar.gz" \
    && curl -fsSLO "$BASE_URL/v$VERSION/SHA256SUMS" \
    && curl -fsSLO "$BASE_URL/v$VERSION/$asset" \
    && grep " $asset\$" SHA256SUMS | sha256sum -c - \
    && tar -xzf "$asset" \
    && install -m 755 "kustomerge-$VERSION-$target/kustomerge" /kustomerge \
    && /kustomerge --version

FROM ${ALPINE}
RUN apk add --no-cache git ca-certificates \
    && adduser -D -u 10001 -h /home/kustomerge kustomerge
COPY --from=download /kustomerge /usr/local/bin/kustomerge
USER 10001:10001
ENV HOME=/home/kustomerge
RUN kustomerge install --global
WORKDIR /work
ENTRYPOINT ["kustomerge"]
CMD ["--help"]
