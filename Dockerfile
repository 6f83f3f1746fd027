# Homing: one image for the web app (gunicorn) and the workers (`homing worker`).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HOMING_INSTANCE_PATH=/var/lib/homing
RUN useradd --create-home --uid 1000 homing \
 && mkdir -p /var/lib/homing && chown homing /var/lib/homing
WORKDIR /app

# The wheel carries the migrations and the static files (setup.py bundles them), so the
# installed package is all the image needs: nothing of the checkout is imported at run time.
COPY pyproject.toml setup.py MANIFEST.in README.md ./
COPY hub ./hub
COPY portal ./portal
COPY static ./static
COPY migrations ./migrations
RUN pip install . && rm -rf /app/*

USER homing
EXPOSE 8000
# Migrations are a release step, not a side effect of starting:  docker compose run web homing db upgrade
# The server refuses unsafe settings at start (see `homing check`).
CMD ["gunicorn", "hub.wsgi:app", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "2", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]
