# tocns — production image (non-root). Build: docker build -t tocns .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TOCNS_DATA_DIR=/data \
    TOCNS_LISTEN_HOST=0.0.0.0 \
    TOCNS_LISTEN_PORT=8080

RUN useradd --create-home --uid 10001 tocns && mkdir /data && chown tocns /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY db ./db
RUN pip install .

USER tocns
# matplotlib's font cache, built once here rather than on the first chart.
RUN python -c "from matplotlib import font_manager; font_manager.findfont('DejaVu Sans')"
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz').status == 200 else 1)"
CMD ["tocns", "run"]
