# The rats image: one binary and exactly the shared libraries it links, on nothing else.
#
# Built by scripts/image, which compiles rats (cargo build --release), gathers the binary's
# ldd closure — the loader, glibc, libstdc++, libgcc_s, libxgboost and its OpenMP, librdkafka —
# and the CA certificates (for HTTPS to OpenID Connect providers, MLflow, a Schema Registry)
# into root/ of the build context, and runs `podman build`. There is no shell, package manager
# or compiler in the image to attack or to patch.
#
#   scripts/image                      # rats:VERSION
#   podman run -p 8080:8080 -v "$PWD/data:/data" rats:0.1.0    # data/lake, data/models; the
#                                                              # accounts file is made beside the lake
FROM scratch

COPY root/ /

# Lake, models and the accounts database live in /data, mounted from outside (writable).
ENV RATS_LAKE=/data/lake \
    RATS_MODELS_DIR=/data/models \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /data

# Not root: an unprivileged user and group of no account on the host.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/rats"]
CMD ["serve", "--addr", "0.0.0.0:8080"]
