# Stand-in for eclipse-mosquitto:2 where no registry is reachable: Debian's mosquitto 2.0 on the local base.
ARG BASE=labx-base:trixie-node24
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends mosquitto \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /mosquitto/config /mosquitto/data \
 && chown -R mosquitto /mosquitto/data
COPY docker/mosquitto.conf /mosquitto/config/mosquitto.conf
EXPOSE 1883
CMD ["mosquitto", "-c", "/mosquitto/config/mosquitto.conf"]
