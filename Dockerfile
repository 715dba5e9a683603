# The Timesheet API. Build it with scripts/build-image, which first fills build/wheelhouse
# with wheels for the base image's Python: this build compiles nothing and downloads nothing.
#
#   scripts/build-image                                  # on python:3.12-slim
#   scripts/build-image --base local/debian-python:bookworm   # any Debian-like base with
#                                                        # python3 and python3-venv
#
# Settings come from the environment only (see .env.example); the image defaults to
# ENVIRONMENT=production, which needs SECRET_KEY and leaves migrations to `timesheet db upgrade`
# (or AUTO_MIGRATE=true).
ARG BASE_IMAGE=python:3.12-slim

# Install the application and its dependencies into a virtualenv from the wheelhouse. The image
# installs nothing later, so pip goes (and setuptools, which Python 3.11's venv adds).
FROM ${BASE_IMAGE} AS install
COPY build/wheelhouse /wheelhouse
RUN python3 -m venv /opt/timesheet \
    && /opt/timesheet/bin/pip install --no-index --find-links /wheelhouse --no-cache-dir \
        --disable-pip-version-check timesheet \
    && /opt/timesheet/bin/pip uninstall --yes --disable-pip-version-check pip setuptools \
    && /opt/timesheet/bin/timesheet --help > /dev/null

# The image: the base plus the virtualenv, run by an unprivileged user.
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="Timesheet" \
      org.opencontainers.image.description="Async REST backend for team time tracking" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --gid 10001 timesheet \
    && useradd --no-log-init --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin timesheet \
    && mkdir /data \
    && chown timesheet:timesheet /data
COPY --from=install /opt/timesheet /opt/timesheet
# PATH in full: a base imported from a root file system may not set one.
ENV PATH=/opt/timesheet/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production
# The SQLite default (sqlite+aiosqlite:///./timesheet.db) lands here; with PostgreSQL it stays empty.
WORKDIR /data
VOLUME /data
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez', timeout=4)"]
CMD ["timesheet", "serve", "--host", "0.0.0.0"]
